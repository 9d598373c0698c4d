// The user's socket (/ws/chat): connects with ?token=, says "auth" with every refreshed token, notices a dead
// link (the browser going offline, or no answer to a ping) and reconnects with back-off. What was missed while
// down is the app's to catch up on each "ready".

import { backoff } from './dom.js';

const PING_EVERY_MS = 15_000;
const PONG_WITHIN_MS = 10_000;

export class LiveSocket extends EventTarget {
  #session;
  #socket = null;
  #attempt = 0;
  #retryTimer = 0;
  #pingTimer = 0;
  #pongTimer = 0;
  #running = false;
  status = 'connecting'; // connecting | open | reconnecting

  constructor(session) {
    super();
    this.#session = session;
    session.addEventListener('token', (event) => this.send({ type: 'auth', token: event.detail }));
    window.addEventListener('offline', () => this.#drop('offline'));
    window.addEventListener('online', () => this.#reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.#checkAlive();
    });
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#setStatus('connecting');
    this.#connect();
  }

  stop() {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#detach(1000);
  }

  /** Sends a frame when the socket is open; false when it is not (the caller falls back or waits). */
  send(frame) {
    if (this.#socket?.readyState !== WebSocket.OPEN || this.status !== 'open') return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  async #connect() {
    clearTimeout(this.#retryTimer);
    if (!this.#running || this.#socket) return;
    if (!navigator.onLine) { this.#setStatus('reconnecting'); return; } // the online event brings us back
    try {
      await this.#session.fresh();
    } catch (error) {
      if (error.status === 401) return; // the session ended; the app shows the login
    }
    if (!this.#running || this.#socket || !this.#session.accessToken) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws/chat?token=${encodeURIComponent(this.#session.accessToken)}`);
    this.#socket = socket;
    this.#pongTimer = setTimeout(() => this.#drop('no ready'), PING_EVERY_MS);
    let opened = false;
    socket.onmessage = (event) => {
      this.#heard();
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === 'ready') {
        opened = true;
        this.#attempt = 0;
        this.#setStatus('open');
      }
      if (frame.type !== 'pong') this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#stopTimers();
      this.#closed(event.code, opened);
    };
    socket.onerror = () => { /* followed by close */ };
  }

  async #closed(code, opened) {
    if (!this.#running) return;
    this.#setStatus('reconnecting');
    if (code === 4401 || !opened) {
      // Token expired or revoked, or a handshake refused (a browser cannot see its 401): check the login over
      // REST, which refreshes the token or ends the session.
      try {
        await this.#session.request('GET', '/api/v1/users/me');
      } catch (error) {
        if (error.status === 401) return;
      }
    }
    this.#retryTimer = setTimeout(() => this.#connect(), backoff(this.#attempt++));
  }

  #reconnectNow() {
    if (!this.#running || this.#socket) return;
    this.#attempt = 0;
    this.#connect();
  }

  /** Leaves a socket that is dead or should be: its close handshake may never end, so it is forgotten at once. */
  #drop(reason) {
    if (!this.#socket) return;
    this.#detach(4000, reason);
    if (this.#running) this.#closed(1006, true);
  }

  #detach(code, reason = '') {
    const socket = this.#socket;
    this.#socket = null;
    this.#stopTimers();
    if (!socket) return;
    socket.onmessage = socket.onclose = socket.onerror = null;
    try { socket.close(code, reason); } catch { /* already closing */ }
  }

  #heard() {
    clearTimeout(this.#pongTimer);
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => this.#checkAlive(), PING_EVERY_MS);
  }

  /** A ping that must be answered soon; silence means the link is gone even if the browser did not notice. */
  #checkAlive() {
    if (this.#socket?.readyState !== WebSocket.OPEN) return;
    this.#socket.send(JSON.stringify({ type: 'ping' }));
    clearTimeout(this.#pongTimer);
    this.#pongTimer = setTimeout(() => this.#drop('no pong'), PONG_WITHIN_MS);
  }

  #stopTimers() {
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: status }));
  }
}
