// Gatehouse: continue to a sign-in provider at once from the page that
// started a link (oauth_continue.html). The page's own link does the same
// for browsers without scripts. Loaded with the page's CSP nonce.
(() => {
  "use strict";
  const a = document.querySelector("a[data-continue]");
  if (a && a.href) {
    location.replace(a.href);
  }
})();
