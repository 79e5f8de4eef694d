/**
 * The studio's JSON API as the modeler calls it: same-origin, the web session cookie, and the
 * session's CSRF token in X-CSRF-Token on every write. Every failure becomes an ApiError with
 * the HTTP status, the server's detail and a Danish sentence for the page.
 */
export class ApiError extends Error {
  constructor(status, detail, message) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

const GENERIC = {
  401: 'Du er ikke længere logget ind. Log ind igen i en anden fane, og prøv så igen (siden her beholder dine ændringer).',
  403: 'Din rolle må ikke ændre forløb (kun procesejere og administratorer).',
  404: 'Findes ikke.',
  413: 'Diagrammet er for stort til at blive gemt.',
  422: 'Serveren kunne ikke bruge det, der blev sendt.',
  500: 'Der skete en fejl på serveren. Den er logget; prøv igen om lidt.',
};

function detailText(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && (d.message || d.msg)) || '').filter(Boolean).join('; ');
  return '';
}

export function makeApi(csrf) {
  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, null, 'Serveren svarer ikke. Tjek forbindelsen, og prøv igen.');
    }
    const type = response.headers.get('content-type') || '';
    const data = type.includes('json') ? await response.json().catch(() => null) : null;
    if (response.redirected && response.url.includes('/login')) {
      throw new ApiError(401, null, GENERIC[401]);
    }
    if (!response.ok) {
      const detail = data && data.detail;
      const status = response.status;
      throw new ApiError(status, detail, GENERIC[status] || `Fejl ${status}: ${detailText(detail)}`);
    }
    return data;
  }
  return {
    catalog: () => call('GET', '/api/studio/catalog'),
    getDraft: (key) => call('GET', `/api/studio/drafts/${encodeURIComponent(key)}`),
    saveDraft: (key, body) => call('PUT', `/api/studio/drafts/${encodeURIComponent(key)}`, body),
    decisions: (key) => call('GET', `/api/studio/decisions/${encodeURIComponent(key)}`),
    check: (body) => call('POST', '/api/studio/check', body),
    preview: (key) => call('POST', `/api/studio/drafts/${encodeURIComponent(key)}/publish-preview`),
    publish: (key, revision) => call('POST', `/api/studio/drafts/${encodeURIComponent(key)}/publish`, { revision }),
  };
}
