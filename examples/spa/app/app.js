// The example app: mounts Gatehouse's components and calls the backend with
// the access token, which only the SDK's memory holds.
const gh = window.Gatehouse;
const url = document.querySelector('meta[name="gatehouse-url"]').content;
const out = document.getElementById("backend");

gh.load({ url }).catch(() => {}); // the components show what went wrong
gh.mountAuth(document.getElementById("auth"), { onLoggedIn: () => callBackend() });
gh.mountPasskeyList(document.getElementById("passkeys"));
gh.mountSessions(document.getElementById("sessions"));

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
  const resp = await fetch("/backend/api/hello", { headers: { Authorization: "Bearer " + token } });
  out.textContent = resp.ok ? "The backend says hello to " + (await resp.json()).hello + "." : "The backend refused: " + resp.status + ".";
}
