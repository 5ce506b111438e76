// A one-time link from `flowgate ui` carries its token in the URL fragment,
// which browsers never send to a server. Take it out of the address bar and
// history at once, then post it (once) to sign in.
(function () {
  "use strict";
  var m = /^#once=([A-Za-z0-9_-]{16,128})$/.exec(window.location.hash);
  if (!m) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  var form = document.getElementById("login-form");
  var key = document.getElementById("key");
  document.getElementById("once").value = m[1];
  key.required = false;
  key.disabled = true;
  key.placeholder = "Signing in with the link from flowgate ui…";
  form.submit();
})();
