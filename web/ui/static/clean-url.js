// Replaces the address of a page opened from a secret link (a reset or
// sign-in link) with one without the secret, so that it stays out of the
// history, bookmarks and screenshots. The page's form still holds it.
(function () {
  "use strict";
  var el = document.getElementById("clean-url");
  if (el && el.dataset.url && window.history && history.replaceState) {
    history.replaceState(null, "", el.dataset.url);
  }
})();
