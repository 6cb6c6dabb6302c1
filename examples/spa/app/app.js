// The example app: mounts Gatehouse's sign-in (the passkey and session
// lists are <gatehouse-…> elements in the page) and calls the backend. In the
// cross-origin mode it sends the access token, which only the SDK's memory
// holds; in the same-site mode the browser sends the gatehouse_token cookie.
const gh = window.Gatehouse;
const url = document.querySelector('meta[name="gatehouse-url"]').content;
const mode = document.querySelector('meta[name="gatehouse-mode"]').content;
const out = document.getElementById("backend");

gh.load({ url, mode }).catch(() => {}); // the components show what went wrong
gh.mountAuth(document.getElementById("auth"));
// Any sign-in: in the form, restored at load, or made on Gatehouse's pages.
gh.on("login", () => callBackend());

let tokens = 0;
gh.on("token", () => {
  tokens++;
  document.getElementById("token-count").textContent = String(tokens);
});
gh.on("logout", () => { out.textContent = "Signed out."; });
document.getElementById("call").addEventListener("click", () => callBackend());

async function callBackend() {
  const token = await gh.getSessionToken();
  if (!token) {
    out.textContent = "Sign in first.";
    return;
  }
  const headers = mode === "cross-origin" ? { Authorization: "Bearer " + token } : {};
  const resp = await fetch("/backend/api/hello", { headers, credentials: "same-origin" });
  out.textContent = resp.ok ? "The backend says hello to " + (await resp.json()).hello + "." : "The backend refused: " + resp.status + ".";
}
