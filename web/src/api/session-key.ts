/** Where the web app keeps its refresh token (sessionStorage: this tab only). */
export const REFRESH_TOKEN_KEY = 'iotsec.refresh_token';
