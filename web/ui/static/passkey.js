// Gatehouse passkeys: the hosted pages' side of the WebAuthn ceremonies.
//
// The sign-in page gets a "Sign in with a passkey" button and, where the
// browser supports conditional mediation, passkeys in the username field's
// autofill; the registration page can create an account with a passkey and
// no password; the account page can add a passkey. Every ceremony is the
// JSON API's begin/finish pair (see web/passkeys.go): begin returns
// {ceremony_id, options}, the browser answers the options, finish takes
// {ceremony_id, credential}. Sign-in and sign-up send set_cookie, so the
// server starts a browser session and names the page to go to.
//
// Served from the binary under /static and loaded with the page's CSP nonce;
// no inline handlers. Options are parsed with
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
// and answers serialised with credential.toJSON() where the browser has them,
// and with the small base64url fallback below where it does not.
(() => {
  "use strict";

  const unsupported = "This browser cannot use passkeys. Use a browser or device that supports them, or use your password.";

  function supported() {
    return typeof window.PublicKeyCredential === "function" && !!navigator.credentials &&
      typeof navigator.credentials.create === "function" && typeof navigator.credentials.get === "function";
  }

  // base64url (RFC 4648 §5, unpadded) <-> ArrayBuffer, for browsers without
  // the JSON helpers of WebAuthn Level 3.
  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    s += "===".slice((s.length + 3) % 4);
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIDs(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
      excludeCredentials: withIDs(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      allowCredentials: withIDs(json.allowCredentials),
    });
  }

  // credentialJSON is the credential's toJSON(), or the same shape built by
  // hand (RegistrationResponseJSON / AuthenticationResponseJSON, L3 §5.1).
  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      out.response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return out;
  }

  // describe turns a failure into a sentence for the user.
  function describe(err) {
    if (err && err.server) {
      const fields = err.server.fields ? Object.values(err.server.fields) : [];
      return fields.length ? fields.join(" ") : err.message;
    }
    switch (err && err.name) {
      case "NotAllowedError":
        return "The passkey request was cancelled or timed out. Try again when you are ready.";
      case "InvalidStateError":
        return "This device already holds a passkey for your account.";
      case "NotSupportedError":
        return unsupported;
      case "SecurityError":
        return "Passkeys cannot be used on this address. Open this page at its usual address and try again.";
      case "TypeError":
        if (err.message && /fetch|network/i.test(err.message)) {
          return "The server could not be reached. Check your connection and try again.";
        }
    }
    return "Something went wrong with the passkey. Please try again.";
  }

  // post sends a JSON request to the passkey API and returns the answer's
  // JSON; an error status throws an Error carrying the server's body.
  async function post(api, path, body) {
    const resp = await fetch(api + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      const err = new Error((data && data.message) || "The server refused the request.");
      err.server = data || {};
      err.retryAfter = Number(resp.headers.get("Retry-After")) || 0; // seconds, on 429
      throw err;
    }
    return data;
  }

  // Status shows a message in a page's alert box.
  function status(el) {
    return {
      show(msg) {
        if (!el || !msg) return;
        el.textContent = msg;
        el.hidden = false;
      },
      clear() {
        if (!el) return;
        el.textContent = "";
        el.hidden = true;
      },
    };
  }

  function returnTo() {
    const input = document.querySelector("input[name=return_to]");
    return input ? input.value : "";
  }

  function value(id) {
    const el = document.getElementById(id);
    return el ? el.value.trim() : "";
  }

  // Sign-in page: the button, and autofill where the browser offers it.
  function setUpSignIn(root, button) {
    const api = root.dataset.passkeyApi;
    const msg = status(root.querySelector("[data-passkey-status]"));
    let autofill = null; // the AbortController of the autofill request
    let refresh = 0;
    let backoff = 1000; // before autofill tries again after a failure

    async function signIn(mediation, signal) {
      const begun = await post(api, "/login/begin");
      backoff = 1000;
      if (mediation === "conditional") {
        // Begin again shortly before the ceremony expires, so that a
        // passkey picked from autofill much later still signs in.
        const ms = Math.max((begun.options.timeout || 300000) - 15000, 30000);
        clearTimeout(refresh);
        refresh = setTimeout(startAutofill, ms);
      }
      const publicKey = requestOptions(begun.options);
      const request = { publicKey, signal };
      if (mediation) request.mediation = mediation;
      const cred = await navigator.credentials.get(request);
      if (!cred) throw new DOMException("No passkey was chosen.", "NotAllowedError");
      clearTimeout(refresh);
      const remember = document.getElementById("remember");
      const done = await post(api, "/login/finish", {
        ceremony_id: begun.ceremony_id,
        credential: credentialJSON(cred),
        set_cookie: true,
        remember: !!(remember && remember.checked),
        return_to: returnTo(),
      });
      location.assign(done.redirect_to);
    }

    function stopAutofill() {
      clearTimeout(refresh);
      if (autofill) autofill.abort();
      autofill = null;
    }

    function startAutofill() {
      stopAutofill();
      const ctl = new AbortController();
      autofill = ctl;
      signIn("conditional", ctl.signal).catch((err) => {
        if (ctl.signal.aborted || (err && err.name === "AbortError")) return;
        msg.show(describe(err));
        // Again later: when the server says (429 Retry-After), else backing
        // off up to a minute, so a tab left open never hammers the server.
        const wait = err && err.retryAfter ? err.retryAfter * 1000 : backoff;
        backoff = Math.min(backoff * 2, 60000);
        if (autofill === ctl) refresh = setTimeout(startAutofill, wait);
      });
    }

    button.addEventListener("click", async () => {
      msg.clear();
      if (!supported()) {
        msg.show(unsupported);
        return;
      }
      stopAutofill();
      button.disabled = true;
      try {
        await signIn(undefined, undefined);
      } catch (err) {
        msg.show(describe(err));
        button.disabled = false;
        startAutofillIfAvailable();
      }
    });

    function startAutofillIfAvailable() {
      if (!supported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return;
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (ok) startAutofill();
      }, () => {});
    }
    startAutofillIfAvailable();
  }

  // Registration page: an account with a passkey and no password.
  function setUpSignUp(root, button) {
    const api = root.dataset.passkeyApi;
    const msg = status(root.querySelector("[data-passkey-status]"));
    button.addEventListener("click", async () => {
      msg.clear();
      if (!supported()) {
        msg.show(unsupported);
        return;
      }
      button.disabled = true;
      try {
        const begun = await post(api, "/signup/begin", { username: value("username"), email: value("email") });
        const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
        const done = await post(api, "/signup/finish", {
          ceremony_id: begun.ceremony_id,
          credential: credentialJSON(cred),
          set_cookie: true,
          return_to: returnTo(),
        });
        location.assign(done.redirect_to);
      } catch (err) {
        msg.show(describe(err));
        button.disabled = false;
      }
    });
  }

  // Account page: add a passkey to the signed-in account.
  function setUpAdd(root, button) {
    const api = root.dataset.passkeyApi;
    const msg = status(root.querySelector("[data-passkey-status]"));
    button.addEventListener("click", async () => {
      msg.clear();
      if (!supported()) {
        msg.show(unsupported);
        return;
      }
      button.disabled = true;
      try {
        const begun = await post(api, "/register/begin");
        const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
        await post(api, "/register/finish", {
          ceremony_id: begun.ceremony_id,
          credential: credentialJSON(cred),
          name: value("passkey-name"),
        });
        location.assign(root.dataset.accountUrl || location.pathname);
      } catch (err) {
        msg.show(describe(err));
        button.disabled = false;
      }
    });
  }

  for (const root of document.querySelectorAll("[data-passkey-api]")) {
    const signIn = root.querySelector("#passkey-login");
    const signUp = root.querySelector("#passkey-signup");
    const add = root.querySelector("#passkey-add");
    if (signIn) setUpSignIn(root, signIn);
    if (signUp) setUpSignUp(root, signUp);
    if (add) setUpAdd(root, add);
  }
})();
