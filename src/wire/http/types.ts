/** HTTP/1.x start line and the headers IoTSec cares about. */

export interface HttpHeader {
  /** Lower-cased header name. */
  name: string;
  value: string;
}

export interface HttpRequest {
  kind: 'request';
  method: string;
  target: string;
  /** "1.1", "1.0". */
  version: string;
  host: string | null;
  userAgent: string | null;
  /** An Authorization header was present (any scheme). */
  authorizationPresent: boolean;
  /** User name from "Authorization: Basic …"; the password is never kept. */
  basicAuthUser: string | null;
  /** True when Basic credentials carried a non-empty password. */
  basicAuthPasswordPresent: boolean;
  /** All headers in order (capped), the Authorization value redacted. */
  headers: HttpHeader[];
  /** False when the header block did not end (CRLF CRLF) inside the given bytes. */
  headersComplete: boolean;
}

export interface HttpResponse {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  server: string | null;
  headers: HttpHeader[];
  headersComplete: boolean;
}

export type HttpMessage = HttpRequest | HttpResponse;
