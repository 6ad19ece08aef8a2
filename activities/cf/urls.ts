// The URLs the CF client sends to. The bearer token goes only to the API's own origin (scheme, host
// and port of the configured API URL), credentials only to the UAA's (the login link of `GET /`).
// A URL a response names (`pagination.next`, a job's `Location`) is checked before anything is sent
// to it, so a misconfigured or hostile server cannot have the token sent elsewhere.

export type Query = Record<string, string | number | string[] | undefined>;

export function toQueryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A URL on another origin than the API's: refused before anything is sent, and not worth retrying. */
export class CfForeignOriginError extends Error {
  override name = 'CfForeignOriginError';
  readonly retryable = false;
  constructor(
    /** What named the URL: `pagination.next`, `job Location`, … */
    readonly source: string,
    readonly url: string,
    /** The URL's origin (`null` when it has none, such as `data:`). */
    readonly origin: string,
    readonly apiOrigin: string,
  ) {
    super(`Refused to follow ${source} ${url}: its origin ${origin} is not the CF API's (${apiOrigin}), and the CF token is sent to no other origin`);
  }
}

/**
 * The absolute URL of an API path (`/v3/apps`, appended to the API URL) or of a URL a response
 * named (absolute, or relative to the API): throws CfForeignOriginError when it is not on the API's origin.
 */
export function onApiOrigin(apiUrl: string, href: string, source: string): string {
  const base = new URL(`${apiUrl}/`);
  let url: URL | undefined;
  try {
    url = new URL(href.startsWith('/') && !href.startsWith('//') ? `${apiUrl}${href}` : href, base);
  } catch {
    url = undefined;
  }
  if (url?.origin !== base.origin) throw new CfForeignOriginError(source, href, url?.origin ?? 'none (not a URL)', base.origin);
  return url.href;
}

/** The login link of `GET /` as the base of token requests: an absolute http(s) URL, without a trailing slash. */
export function loginBase(href: string): string | undefined {
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href.replace(/\/$/, '') : undefined;
  } catch {
    return undefined;
  }
}
