// A fetch for the CF client built on undici's request API: the same semantics for what the client
// uses (status, headers, text, json), at a fraction of WHATWG fetch's CPU per call, which matters
// when a worker drives hundreds of CC calls a second. Multipart uploads go through fetch itself.
import { Agent, request } from 'undici';

export function createFastFetch(agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 })): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    if (init.body instanceof FormData || input instanceof Request) return fetch(input, init);
    const response = await request(String(input), {
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers as Record<string, string> | undefined,
      body: init.body as string | undefined,
      signal: init.signal ?? undefined,
      dispatcher: agent,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let text: Promise<string> | undefined;
    const readText = () => (text ??= response.body.text());
    return {
      status: response.statusCode,
      ok: response.statusCode >= 200 && response.statusCode < 300,
      statusText: '',
      headers,
      text: readText,
      json: async () => JSON.parse(await readText()) as unknown,
      body: { cancel: () => response.body.dump() },
    } as unknown as Response;
  }) as typeof fetch;
}
