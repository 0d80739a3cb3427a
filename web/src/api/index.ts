import { ApiClient } from './client';

/** The app's one client: one refresh in flight at a time, one session per tab. */
export const api = new ApiClient();

export * from './client';
export type * from './types';
