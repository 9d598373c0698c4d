// The REST side of the SliceChat API: one login session (access + refresh token), refreshed before the access
// token expires, and every failure turned into an ApiError whose message a person can read.

const STORAGE_KEY = 'slicechat.session';
const REFRESH_LOCK = 'slicechat.refresh';
const REFRESH_RETRY_MS = 10_000;
const SESSION_ENDED = 'Your session has ended. Please log in again.';

export class ApiError extends Error {
  constructor(status, message, problem = null) {
    super(message);
    this.status = status;
    this.problem = problem;
  }

  /** Worth trying again later with the same request: no answer at all, 408, 429 or 5xx. */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** The readable text of a problem details body: its field errors, else its detail, else its title. */
export function describeProblem(problem, status) {
  const fieldErrors = Object.values(problem?.errors ?? {}).flat().filter(Boolean);
  if (fieldErrors.length > 0) return fieldErrors.join(' ');
  return problem?.detail || problem?.title || `The server answered ${status}.`;
}

/** The claims of a JWT (exp, iat: seconds since the epoch), or {} when it cannot be read. */
function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

export class Session extends EventTarget {
  #tokens = null; // {access_token, refresh_token}
  #refreshing = null;
  #refreshTimer = 0;

  constructor() {
    super();
    this.#tokens = this.#stored();
    // Another tab of the same login refreshed: use its tokens (ours are spent) or follow its logout.
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return;
      const stored = this.#stored();
      if (!stored) this.#end('You logged out in another tab.');
      else if (stored.access_token !== this.#tokens?.access_token) this.#adopt(stored, false);
    });
    if (this.#tokens) this.#scheduleRefresh();
  }

  get signedIn() { return this.#tokens !== null; }
  get accessToken() { return this.#tokens?.access_token ?? null; }

  async register(username, email, password) {
    await this.request('POST', '/api/v1/auth/register', { username, email, password }, { anonymous: true });
    await this.login(username, password);
  }

  async login(username, password) {
    const tokens = await this.request('POST', '/api/v1/auth/login', { username, password }, { anonymous: true });
    this.#adopt(tokens, true);
  }

  async logout() {
    try {
      await this.request('POST', '/api/v1/auth/logout');
    } finally {
      this.#end(null);
    }
  }

  /** JSON request with the bearer token; a 401 refreshes once and tries again. */
  async request(method, path, body = undefined, { anonymous = false } = {}) {
    if (!anonymous) await this.fresh();
    let response = await this.#send(method, path, body, anonymous);
    if (response.status === 401 && !anonymous && this.#tokens) {
      await this.refresh();
      response = await this.#send(method, path, body, anonymous);
      if (response.status === 401) throw this.#end(SESSION_ENDED);
    }
    return this.#read(response);
  }

  /** The bytes behind an authenticated URL (attachments), as an object URL for img src or a download. */
  async blobUrl(path) {
    await this.fresh();
    const response = await this.#fetch(path, { headers: { Authorization: `Bearer ${this.accessToken}` } });
    if (!response.ok) await this.#read(response);
    return URL.createObjectURL(await response.blob());
  }

  /** Refreshes now when the access token expires soon (timers sleep in background tabs and suspended laptops). */
  async fresh() {
    if (this.#tokens && Date.now() >= this.#refreshAt()) await this.refresh();
  }

  /** Trades the refresh token for new tokens; one at a time across this browser's tabs, since a refresh token is spent once. */
  refresh() {
    this.#refreshing ??= this.#locked(async () => {
      const stored = this.#stored();
      if (stored && stored.refresh_token !== this.#tokens?.refresh_token && Date.now() < this.#refreshAt(stored)) {
        this.#adopt(stored, false); // another tab refreshed first
        return;
      }
      if (!this.#tokens) throw new ApiError(401, SESSION_ENDED);
      const response = await this.#send('POST', '/api/v1/auth/refresh', { refresh_token: this.#tokens.refresh_token }, true);
      if (response.status === 401) throw this.#end(SESSION_ENDED);
      this.#adopt(await this.#read(response), true);
    }).finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  #locked(work) {
    return navigator.locks ? navigator.locks.request(REFRESH_LOCK, work) : work();
  }

  #refreshAt(tokens = this.#tokens) {
    const { exp = 0, iat = exp } = claimsOf(tokens?.access_token ?? '');
    // A minute before expiry, or a quarter of the lifetime before it for short-lived tokens.
    return exp * 1000 - Math.min(60_000, ((exp - iat) * 1000) / 4);
  }

  #scheduleRefresh() {
    clearTimeout(this.#refreshTimer);
    const delay = Math.max(0, this.#refreshAt() - Date.now());
    this.#refreshTimer = setTimeout(() => this.refresh().catch((error) => {
      if (error.retryable && this.#tokens) this.#refreshTimer = setTimeout(() => this.#scheduleRefresh(), REFRESH_RETRY_MS);
    }), delay);
  }

  #adopt(tokens, store) {
    this.#tokens = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    if (store) localStorage.setItem(STORAGE_KEY, JSON.stringify(this.#tokens));
    this.#scheduleRefresh();
    this.dispatchEvent(new CustomEvent('token', { detail: this.#tokens.access_token }));
  }

  /** Forgets the login (reason: what to tell the user, null after a logout) and returns the error to throw. */
  #end(reason) {
    const error = new ApiError(401, reason ?? 'You are logged out.');
    if (!this.#tokens) return error;
    clearTimeout(this.#refreshTimer);
    this.#tokens = null;
    localStorage.removeItem(STORAGE_KEY);
    this.dispatchEvent(new CustomEvent('ended', { detail: reason }));
    return error;
  }

  #stored() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORAGE_KEY));
      return stored?.access_token && stored?.refresh_token ? stored : null;
    } catch {
      return null;
    }
  }

  async #send(method, path, body, anonymous) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!anonymous && this.#tokens) headers.Authorization = `Bearer ${this.#tokens.access_token}`;
    return this.#fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async #fetch(path, init) {
    try {
      return await fetch(path, init);
    } catch {
      throw new ApiError(0, navigator.onLine ? 'The server cannot be reached.' : 'You are offline.');
    }
  }

  async #read(response) {
    if (response.status === 204) return null;
    const text = await response.text().catch(() => '');
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: described by status below */ }
    if (response.ok) return json;
    let message = describeProblem(json, response.status);
    const retryAfter = response.headers.get('Retry-After');
    if (response.status === 429 && retryAfter && !json?.detail) message += ` Try again in ${retryAfter} s.`;
    const error = new ApiError(response.status, message, json);
    error.retryAfterSeconds = Number(retryAfter) || 0;
    throw error;
  }
}
