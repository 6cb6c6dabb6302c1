// A password strength meter for inputs marked data-strength: a <meter> and
// a short verdict under the field, updated as the user types. It only
// advises: the server decides (length, the list of common and leaked
// passwords, the account's own name and address), whatever the meter says.
// The estimate is rough on purpose: length counts most, as NIST SP 800-63B
// recommends, and predictable patterns count against.
(function () {
  "use strict";

  var verdicts = ["Too weak", "Weak", "Fair", "Good", "Strong"];

  // bits estimates the guessing entropy of pw, roughly.
  function bits(pw, context) {
    if (!pw) return 0;
    var lower = pw.toLowerCase();
    for (var i = 0; i < context.length; i++) {
      if (context[i] && context[i].length >= 3 && lower.indexOf(context[i]) >= 0) {
        lower = lower.split(context[i]).join("");
      }
    }
    var pool = 0;
    if (/[a-z]/.test(pw)) pool += 26;
    if (/[A-Z]/.test(pw)) pool += 26;
    if (/[0-9]/.test(pw)) pool += 10;
    if (/[^a-zA-Z0-9]/.test(pw)) pool += 33;
    var chars = Array.from(lower);
    var n = 0, prev = "", run = 0;
    for (var j = 0; j < chars.length; j++) {
      var c = chars[j];
      var step = prev ? c.codePointAt(0) - prev.codePointAt(0) : 99;
      // Repeats and runs (aaaa, abcd, 4321) add little.
      run = (step === 0 || step === 1 || step === -1) ? run + 1 : 0;
      n += run > 1 ? 0.25 : 1;
      prev = c;
    }
    if (/^(password|qwerty|letmein|welcome|admin|iloveyou|123456)/.test(lower)) n -= 6;
    return Math.max(0, n) * Math.log2(Math.max(pool, 10));
  }

  function score(b) {
    if (b < 28) return 0;
    if (b < 40) return 1;
    if (b < 60) return 2;
    if (b < 80) return 3;
    return 4;
  }

  function attach(input) {
    var meter = document.createElement("meter");
    meter.min = 0; meter.max = 4; meter.low = 2; meter.high = 3; meter.optimum = 4; meter.value = 0;
    meter.id = input.id + "-meter";
    meter.setAttribute("aria-hidden", "true");
    var label = document.createElement("p");
    label.className = "hint";
    label.id = input.id + "-strength";
    label.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", label);
    input.insertAdjacentElement("afterend", meter);
    var described = (input.getAttribute("aria-describedby") || "").trim();
    input.setAttribute("aria-describedby", (described + " " + label.id).trim());

    function context() {
      var out = [];
      ["username", "email"].forEach(function (id) {
        var el = document.getElementById(id);
        var v = el ? (el.value || "").toLowerCase() : "";
        if (v) {
          out.push(v);
          if (v.indexOf("@") > 0) out.push(v.split("@")[0]);
        }
      });
      var hidden = input.form && input.form.querySelector("input[autocomplete=username]");
      if (hidden && hidden.value) out.push(hidden.value.toLowerCase());
      return out;
    }

    function update() {
      var pw = input.value;
      if (!pw) {
        meter.value = 0;
        label.textContent = "";
        return;
      }
      var s = score(bits(pw, context()));
      meter.value = s;
      label.textContent = "Strength: " + verdicts[s] + (s < 3 ? ". A longer passphrase is stronger." : ".");
    }
    input.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("input[data-strength]").forEach(attach);
})();
