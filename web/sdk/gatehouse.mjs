// Gatehouse sign-in SDK: sign-in, sign-up, passkeys and sessions for any
// page, talking to a Gatehouse server's JSON API. Plain JavaScript with no
// dependencies and no build step; this file is the ES module
// (/sdk/gatehouse.mjs), and /sdk/gatehouse.js is the same code as a classic
// script that sets window.Gatehouse. See docs/sdk.md.
//
// Tokens: the access token lives in this module's memory only, never in
// localStorage or sessionStorage. What keeps the sign-in never reaches
// JavaScript. In the same-site mode (the default) it is the browser session
// of Gatehouse's hosted pages: the HttpOnly gatehouse_session cookie, and
// gatehouse_token for the site's own backends (X-Gatehouse-Session-Cookie).
// In the cross-origin mode it is a refresh token in an HttpOnly cookie
// scoped to Gatehouse's refresh endpoint (X-Gatehouse-Refresh-Cookie). Either
// way the SDK renews the access token shortly before it expires and restores
// the sign-in when the page loads again.
//
// Styles: components render in shadow roots with constructable stylesheets,
// which a strict Content-Security-Policy (style-src without
// 'unsafe-inline') does not block, and no inline style attributes.

const state = { base: "", mode: "same-site", remember: false, token: "", exp: 0, user: null, timer: 0, deferred: false, refreshing: null, loading: null };
const MODES = ["same-site", "cross-origin"];
let loaded; // resolves when load() has been called
const whenLoaded = new Promise((resolve) => { loaded = resolve; });
const events = new EventTarget();

function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

class GatehouseError extends Error {
  constructor(code, message, status, body) {
    super(message);
    this.name = "GatehouseError";
    this.code = code;
    this.status = status || 0;
    this.body = body || {};
  }
}

// call sends one request to the JSON API. opts.cookie sends credentials and
// asks for the cookie of the mode ("sign-in": the mode's own; "any": both,
// for restoring and ending a sign-in whichever way it was made); every other
// call sends the access token and no cookies.
async function call(method, path, body, opts = {}) {
  if (!state.base) throw new GatehouseError("not_loaded", "Call Gatehouse.load({url}) first.");
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.cookie === "any" || (opts.cookie && state.mode === "cross-origin")) headers["X-Gatehouse-Refresh-Cookie"] = "1";
  if (opts.cookie === "any" || (opts.cookie && state.mode === "same-site")) headers["X-Gatehouse-Session-Cookie"] = "1";
  if (opts.auth !== false && state.token) headers.Authorization = "Bearer " + state.token;
  let resp;
  try {
    resp = await fetch(state.base + path, {
      method, headers, mode: "cors", credentials: opts.cookie ? "include" : "omit",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new GatehouseError("unreachable", "Gatehouse at " + state.base + " cannot be reached from " +
      location.origin + ": the server is down, or this origin is not in its http.allowed_origins.");
  }
  if (resp.status === 204) return null;
  let data = null;
  try { data = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    const d = data || {};
    throw new GatehouseError(d.error || "internal", d.message || "Gatehouse answered " + resp.status + ".", resp.status, d);
  }
  return data;
}

// api is call for the signed-in user: a fresh token first, and one refresh
// and retry when the token was refused.
async function api(method, path, body) {
  await getSessionToken();
  try {
    return await call(method, path, body);
  } catch (e) {
    if (e.status !== 401 || !state.user) throw e;
    await refresh();
    return call(method, path, body);
  }
}

function setPair(pair) {
  const was = state.user;
  state.token = pair.access_token;
  state.exp = Date.now() + pair.expires_in * 1000;
  state.user = pair.user || state.user;
  schedule();
  emit("token", { expiresAt: new Date(state.exp) });
  if (!was) emit("login", { user: state.user });
}

function clear() {
  const was = state.user;
  clearTimeout(state.timer);
  state.token = "";
  state.exp = 0;
  state.user = null;
  if (was) emit("logout", { user: was });
}

// schedule renews the token when a fifth of its life (at most a minute)
// is left.
// A renewal that fails for want of a network is tried again, backing off
// to a minute, while the user is signed in. A page that nobody can see
// renews nothing: a tab left in the background must not keep the session
// alive past its idle timeout. It renews when it is seen again (and
// getSessionToken renews whenever the page asks for a token).
function schedule(retry) {
  clearTimeout(state.timer);
  const left = state.exp - Date.now();
  const wait = retry || Math.max(left - Math.min(60000, left / 5), 1000);
  state.timer = setTimeout(() => {
    if (globalThis.document && document.hidden) {
      state.deferred = true;
      return;
    }
    refresh().catch(() => {
      if (state.user) schedule(Math.min((retry || 2500) * 2, 60000));
    });
  }, wait);
}
if (globalThis.document) {
  document.addEventListener("visibilitychange", () => {
    if (document.hidden || !state.deferred) return;
    state.deferred = false;
    if (state.user) refresh().catch(() => schedule(5000));
  });
}

function refresh() {
  if (!state.refreshing) {
    state.refreshing = call("POST", "/api/auth/refresh", {}, { cookie: "any", auth: false })
      .then((pair) => {
        if (pair) setPair(pair);
        else clear();
        return state.user;
      }, (e) => {
        if (e.status === 401) clear();
        throw e;
      })
      .finally(() => { state.refreshing = null; });
  }
  return state.refreshing;
}

function load(opts = {}) {
  if (!opts.url) throw new GatehouseError("invalid_request", "Gatehouse.load needs {url}: the Gatehouse server's public URL.");
  const mode = opts.mode || "same-site";
  if (!MODES.includes(mode)) throw new GatehouseError("invalid_request", "Gatehouse.load: mode must be \"same-site\" or \"cross-origin\".");
  state.base = new URL(opts.url, location.href).href.replace(/\/+$/, "");
  state.mode = mode;
  state.remember = !!opts.remember;
  state.loading = refresh();
  loaded();
  state.loading.catch(() => {}); // components show it; no unhandled rejection
  return state.loading;
}

async function getSessionToken() {
  if (state.token && state.exp - Date.now() > 10000) return state.token;
  if (state.loading) await state.loading.catch(() => {});
  if (state.user || state.token) await refresh();
  return state.token || null;
}

async function me() {
  if (!state.user && !state.token) return null;
  const d = await api("GET", "/api/me");
  state.user = d.user;
  return d.user;
}

async function logout() {
  try {
    // A token that has lapsed (a renewal failed, the laptop slept) would make
    // the sign-out a 401 that leaves the session alive: renew it first.
    await getSessionToken().catch(() => {});
    if (state.token) await call("POST", "/api/auth/logout", undefined, { cookie: "any" });
  } finally {
    clear();
  }
}

function on(type, fn) {
  const h = (ev) => fn(ev.detail);
  events.addEventListener(type, h);
  return () => events.removeEventListener(type, h);
}

// WebAuthn JSON (Level 3 §5.1), with a fallback for browsers without the
// parse…FromJSON and toJSON helpers.
function fromB64(s) {
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(s + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
}
function toB64(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const withIDs = (list) => (list || []).map((c) => ({ ...c, id: fromB64(c.id) }));
function creationOptions(o) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
  return { ...o, challenge: fromB64(o.challenge), user: { ...o.user, id: fromB64(o.user.id) }, excludeCredentials: withIDs(o.excludeCredentials) };
}
function requestOptions(o) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
  return { ...o, challenge: fromB64(o.challenge), allowCredentials: withIDs(o.allowCredentials) };
}
function credentialJSON(c) {
  if (c.toJSON) return c.toJSON();
  const r = c.response, out = { id: c.id, rawId: toB64(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(), response: { clientDataJSON: toB64(r.clientDataJSON) } };
  if (r.attestationObject) {
    out.response.attestationObject = toB64(r.attestationObject);
    out.response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = toB64(r.authenticatorData);
    out.response.signature = toB64(r.signature);
    if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
  }
  return out;
}
const passkeysSupported = () => typeof PublicKeyCredential === "function" && !!navigator.credentials;

async function passkeyLogin(mediation, signal) {
  const begun = await call("POST", "/api/passkeys/login/begin", {}, { auth: false });
  const req = { publicKey: requestOptions(begun.options) };
  if (mediation) req.mediation = mediation;
  if (signal) req.signal = signal;
  const cred = await navigator.credentials.get(req);
  if (!cred) throw new GatehouseError("cancelled", "No passkey was chosen.");
  return call("POST", "/api/passkeys/login/finish", { ceremony_id: begun.ceremony_id, credential: credentialJSON(cred), remember: state.remember }, { cookie: true, auth: false });
}

async function addPasskey(name) {
  const begun = await api("POST", "/api/passkeys/register/begin", {});
  const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
  return api("POST", "/api/passkeys/register/finish", { ceremony_id: begun.ceremony_id, credential: credentialJSON(cred), name: name || "" });
}

// Components.

const CSS = `
:host{--gh-accent:#2f5bd3;--gh-accent-fg:#fff;--gh-bg:#fff;--gh-fg:#1d2330;--gh-muted:#5b6474;--gh-border:#d4d8e0;--gh-error:#b42318;--gh-radius:8px;--gh-font:system-ui,sans-serif;display:block;color-scheme:light dark}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){--gh-accent:#7c9cff;--gh-accent-fg:#0b1020;--gh-bg:#171a21;--gh-fg:#e7e9ee;--gh-muted:#9aa3b2;--gh-border:#343a46;--gh-error:#ff8a80}}
:host([theme=dark]){--gh-accent:#7c9cff;--gh-accent-fg:#0b1020;--gh-bg:#171a21;--gh-fg:#e7e9ee;--gh-muted:#9aa3b2;--gh-border:#343a46;--gh-error:#ff8a80}
.box{font-family:var(--gh-font);background:var(--gh-bg);color:var(--gh-fg);border:1px solid var(--gh-border);border-radius:var(--gh-radius);padding:1.25rem;max-width:26rem;box-sizing:border-box}
h2{font-size:1.2rem;margin:0 0 1rem}
form{display:grid;gap:.6rem;margin:0 0 .8rem}
label{display:grid;gap:.25rem;font-size:.9rem}
input{font:inherit;padding:.5rem .6rem;border:1px solid var(--gh-border);border-radius:calc(var(--gh-radius) / 2);background:transparent;color:inherit}
button,a.button{font:inherit;padding:.55rem .8rem;border-radius:calc(var(--gh-radius) / 2);border:1px solid var(--gh-accent);background:var(--gh-accent);color:var(--gh-accent-fg);cursor:pointer;text-align:center;text-decoration:none;display:block}
button.secondary,a.button{background:transparent;color:var(--gh-accent)}
button.link{background:none;border:0;color:var(--gh-accent);padding:.2rem 0;display:inline;text-decoration:underline}
button:disabled{opacity:.6;cursor:wait}
.row{display:grid;gap:.5rem;margin:.5rem 0}
.msg{margin:.4rem 0;color:var(--gh-muted);min-height:1em}
.msg.error{color:var(--gh-error)}
ul{list-style:none;padding:0;margin:0 0 .8rem}
li{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.5rem 0;border-bottom:1px solid var(--gh-border)}
li small{display:block;color:var(--gh-muted)}
`;

let sheet = null;
function shadow(el) {
  const root = el.shadowRoot || el.attachShadow({ mode: "open" });
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  root.adoptedStyleSheets = [sheet];
  return root;
}

// h makes an element: attributes as properties where they are ones
// (onclick…), children as nodes or text.
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...children.filter((c) => c != null));
  return e;
}

// panel is the frame every component draws in: a title, a message line and
// a body that views replace.
function panel(el, onError) {
  const root = shadow(el);
  const box = h("div", { class: "box", part: "box" });
  const msg = h("p", { class: "msg", role: "status", part: "message" });
  root.replaceChildren(box);
  const p = {
    view(title, ...children) {
      msg.textContent = "";
      msg.className = "msg";
      box.replaceChildren(h("h2", { part: "title" }, title), msg, ...children);
    },
    say(text) { msg.className = "msg"; msg.textContent = text; },
    fail(err) {
      msg.className = "msg error";
      msg.setAttribute("role", "alert");
      msg.textContent = err && err.message ? err.message : String(err);
      if (onError) onError(err);
    },
    // form makes a form of [name, label, type, autocomplete] fields whose
    // submit button is busy while submit runs.
    form(fields, label, submit) {
      const button = h("button", { type: "submit", part: "button" }, label);
      const f = h("form", { novalidate: true }, ...fields.map(([name, text, type, ac]) =>
        h("label", {}, text, h("input", { name, type: type || "text", autocomplete: ac || "off", required: true }))), button);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        button.disabled = true;
        const values = Object.fromEntries(new FormData(f));
        try { await submit(values); } catch (e) { p.fail(e); } finally { button.disabled = false; }
      });
      return f;
    },
    button(label, onclick, cls) {
      const b = h("button", { type: "button", class: cls || "secondary", part: "button" }, label);
      b.addEventListener("click", async () => {
        b.disabled = true;
        try { await onclick(); } catch (e) { p.fail(e); } finally { b.disabled = false; }
      });
      return b;
    },
  };
  return p;
}

// ready waits for load(): a component may be mounted (or a custom element
// parsed) before the page's script calls it, but not long before.
async function ready(p) {
  p.view("Loading…");
  if (!state.loading) {
    const late = new Promise((resolve) => {
      const give = () => setTimeout(resolve, 0);
      if (document.readyState === "complete") give();
      else addEventListener("load", give, { once: true });
    });
    await Promise.race([whenLoaded, late]);
  }
  if (!state.loading) throw new GatehouseError("not_loaded", "Call Gatehouse.load({url}) first, or give the element a url attribute.");
  await state.loading;
}

function mountAuth(el, opts = {}) {
  const methods = opts.methods || ["password", "passkey", "email", "social"];
  const has = (m) => methods.includes(m);
  const p = panel(el, opts.onError);
  let autofill = null;
  const stopAutofill = () => { if (autofill) autofill.abort(); autofill = null; };

  const finish = (pair) => {
    setPair(pair);
    stopAutofill();
    signedIn();
    if (opts.onLoggedIn) opts.onLoggedIn(state.user);
  };
  // attempt runs a first factor; a second one due goes to the code step.
  const attempt = async (fn) => {
    let d;
    try {
      d = await fn();
    } catch (e) {
      if (e.code !== "mfa_required") throw e;
      d = e.body;
    }
    if (d && d.mfa_token) mfa(d.mfa_token); // 202 to the SDK's requests
    else finish(d);
  };

  function signIn() {
    const parts = [];
    if (has("password")) {
      parts.push(p.form([["login", "Username or email", "text", has("passkey") ? "username webauthn" : "username"],
        ["password", "Password", "password", "current-password"]], "Sign in",
      (v) => attempt(() => call("POST", "/api/auth/login", { login: v.login, password: v.password, remember: state.remember }, { cookie: true, auth: false }))));
    }
    const more = h("div", { class: "row" });
    if (has("passkey") && passkeysSupported()) {
      more.append(p.button("Sign in with a passkey", async () => {
        stopAutofill();
        try {
          await attempt(() => passkeyLogin());
        } catch (e) {
          if (e.name === "NotAllowedError") throw new GatehouseError("cancelled", "The passkey sign-in was cancelled or timed out.");
          throw e;
        }
      }));
    }
    if (has("email")) more.append(p.button("Email me a sign-in code", async () => email()));
    parts.push(more);
    if (has("social")) {
      const social = h("div", { class: "row" });
      parts.push(social);
      call("GET", "/api/auth/providers", undefined, { auth: false }).then((d) => {
        for (const pr of (d && d.providers) || []) {
          const u = new URL(pr.start_url);
          u.searchParams.set("return_to", location.href);
          social.append(h("a", { class: "button", part: "button", href: u.href }, "Continue with " + (pr.display_name || pr.name)));
        }
      }, () => {});
    }
    if (has("password")) parts.push(h("p", {}, p.button("Create an account", async () => signUp(), "link")));
    p.view("Sign in", ...parts);
    if (has("passkey") && has("password") && passkeysSupported() && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (!ok || state.user) return;
        stopAutofill();
        autofill = new AbortController();
        const signal = autofill.signal;
        attempt(() => passkeyLogin("conditional", signal)).catch((e) => {
          if (!signal.aborted && e.name !== "AbortError") p.fail(e);
        });
      });
    }
  }

  function signUp() {
    stopAutofill();
    p.view("Create an account",
      p.form([["username", "Username", "text", "username"], ["email", "Email", "email", "email"], ["password", "Password", "password", "new-password"]],
        "Create account", async (v) => {
          await call("POST", "/api/auth/register", v, { auth: false });
          await attempt(() => call("POST", "/api/auth/login", { login: v.username, password: v.password, remember: state.remember }, { cookie: true, auth: false }));
        }),
      h("p", {}, p.button("I have an account", async () => signIn(), "link")));
  }

  function email() {
    stopAutofill();
    p.view("Sign in by email", p.form([["email", "Email", "email", "email"]], "Send code", async (v) => {
      await call("POST", "/api/auth/email-login", { email: v.email, return_to: location.href.split("#")[0] }, { auth: false });
      p.view("Enter the code", p.form([["code", "6-digit code from the email", "text", "one-time-code"]], "Sign in",
        (c) => attempt(() => call("POST", "/api/auth/email-login/confirm", { email: v.email, code: c.code, remember: state.remember }, { cookie: true, auth: false }))),
      h("p", {}, p.button("Back", async () => signIn(), "link")));
      p.say("If " + v.email + " has an account, a code is on its way. Type it here" +
        (state.mode === "same-site" ? ", or open the email's link: it brings you back here, signed in." : "."));
      watchReturn();
    }), h("p", {}, p.button("Back", async () => signIn(), "link")));
  }

  // watchReturn picks up a sign-in finished elsewhere (the email's link, a
  // hosted page) when the user comes back to this page: the session cookie
  // then restores it.
  let watching = false;
  function watchReturn() {
    if (watching) return;
    watching = true;
    const check = () => {
      if (document.visibilityState !== "visible" || state.user) return;
      refresh().then((u) => { if (u) { stopAutofill(); if (opts.onLoggedIn) opts.onLoggedIn(u); } }, () => {});
    };
    document.addEventListener("visibilitychange", check);
    off.push(() => document.removeEventListener("visibilitychange", check));
  }

  function mfa(token) {
    p.view("Two-step verification", p.form([["code", "Code from your authenticator app, or a recovery code", "text", "one-time-code"]], "Verify",
      (v) => attempt(() => call("POST", "/api/auth/login/mfa", { mfa_token: token, code: v.code }, { cookie: true, auth: false }))));
  }

  function signedIn() {
    const u = state.user || {};
    p.view("Signed in", h("p", { part: "user" }, "Signed in as ", h("strong", {}, u.username || u.email || "")),
      p.button("Sign out", async () => logout()));
  }

  const off = [on("logout", () => signIn()), on("login", () => signedIn())];
  ready(p).then(() => (state.user ? signedIn() : signIn()), (e) => { p.view("Sign in"); p.fail(e); });
  return { unmount() { stopAutofill(); off.forEach((f) => f()); el.shadowRoot.replaceChildren(); } };
}

const date = (t) => (t ? new Date(t).toLocaleString() : "");

// mountList draws a list of the user's things, each removable, refreshed
// whenever the user signs in or out.
function mountList(el, opts, title, load, item, extra) {
  const p = panel(el, opts.onError);
  const draw = async () => {
    if (!state.user) return p.view(title, h("p", {}, "Sign in to see this."));
    const list = h("ul", { part: "list" });
    for (const x of await load()) {
      const [label, detail, remove] = item(x);
      list.append(h("li", { part: "item", "data-id": x.id }, h("span", {}, label, h("small", {}, detail)),
        p.button(remove, async () => {
          if (x.current) return logout(); // this device: signing out is the revocation
          await api("DELETE", x.path);
          await draw();
          p.say("Removed.");
        })));
    }
    if (!list.children.length) list.append(h("li", {}, "None."));
    p.view(title, list, ...(extra ? [extra(p, draw)] : []));
  };
  const redraw = () => draw().catch((e) => p.fail(e));
  const off = [on("login", redraw), on("logout", redraw)];
  ready(p).then(redraw, (e) => { p.view(title); p.fail(e); });
  return { refresh: draw, unmount() { off.forEach((f) => f()); el.shadowRoot.replaceChildren(); } };
}

function mountPasskeyList(el, opts = {}) {
  return mountList(el, opts, "Passkeys",
    async () => (await api("GET", "/api/passkeys")).passkeys.map((k) => ({ ...k, path: "/api/passkeys/" + encodeURIComponent(k.id) })),
    (k) => [k.name, (k.synced ? "synced · " : "") + "added " + date(k.created_at) + (k.last_used_at ? " · last used " + date(k.last_used_at) : " · never used"), "Remove"],
    (p, draw) => passkeysSupported() ? p.form([["name", "Name of a new passkey", "text", "off"]], "Add a passkey", async (v) => {
      await addPasskey(v.name);
      await draw();
      p.say("Passkey added.");
    }) : h("p", {}, "This browser does not support passkeys."));
}

function mountSessions(el, opts = {}) {
  return mountList(el, opts, "Signed-in devices",
    async () => (await api("GET", "/api/sessions")).sessions.map((s) => ({ ...s, path: "/api/sessions/" + encodeURIComponent(s.id) })),
    (s) => [(s.device || s.user_agent || "Unknown device") + (s.current ? " (this one)" : ""), s.ip + " · last seen " + date(s.last_seen_at), s.current ? "Sign out" : "Revoke"]);
}

// Web components: <gatehouse-auth>, <gatehouse-passkeys> and
// <gatehouse-sessions> mount the components on themselves. Attributes: url
// (calls load when the page has not), mode, methods ("password passkey
// email social"), theme. They fire bubbling events gatehouse-login and
// gatehouse-error with the user or the error as detail.
function defineElements() {
  if (!globalThis.customElements || !globalThis.HTMLElement) return;
  const define = (name, mount) => {
    if (customElements.get(name)) return;
    customElements.define(name, class extends HTMLElement {
      connectedCallback() {
        const url = this.getAttribute("url");
        if (url && !state.loading) load({ url, mode: this.getAttribute("mode") || undefined, remember: this.hasAttribute("remember") });
        const fire = (type, detail) => this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
        const methods = this.getAttribute("methods");
        this.mounted = mount(this, {
          methods: methods ? methods.split(/[\s,]+/).filter(Boolean) : undefined,
          onLoggedIn: (user) => fire("gatehouse-login", user),
          onError: (err) => fire("gatehouse-error", err),
        });
      }
      disconnectedCallback() {
        if (this.mounted) this.mounted.unmount();
        this.mounted = null;
      }
    });
  };
  define("gatehouse-auth", mountAuth);
  define("gatehouse-passkeys", mountPasskeyList);
  define("gatehouse-sessions", mountSessions);
}

const Gatehouse = {
  version: "1",
  load, mountAuth, mountPasskeyList, mountSessions, me, getSessionToken, refresh, logout, on,
  get user() { return state.user; },
  get mode() { return state.mode; },
  GatehouseError,
};

defineElements();

export { Gatehouse };
export default Gatehouse;
