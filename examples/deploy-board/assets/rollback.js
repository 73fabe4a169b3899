/* The rollback dialog (pages/rollback.md): names the deploy message it was opened from, and
   turns Roll back into an announcement once the checklist is ticked. */
(function () {
  "use strict";
  var deploy = null;
  /* HipChat hands the view the message its action was run on, under the action's key. */
  if (window.HipChat && typeof window.HipChat.register === "function") {
    window.HipChat.register({
      "rollback-from-message": function (message) {
        var body = (message && message.body) || "";
        var found = /(\S+)\s+deployed\s+([0-9a-f]{7})/.exec(body);
        deploy = found ? { service: found[1], commit: found[2] } : null;
        var shown = document.getElementById("deploy-message");
        shown.textContent = "From " + ((message && message.sender && message.sender.name) || "someone") + ": “" + body + "”";
      }
    });
  }
  document.addEventListener("change", function () {
    var boxes = document.querySelectorAll(".hipkit-page li > input[type=checkbox]");
    if (Array.prototype.every.call(boxes, function (box) { return box.checked; })) {
      document.getElementById("rollback-note").hidden = true;
    }
  });
  /* Roll back: refused until both boxes are ticked, then the announcement goes into the message
     box for the user to send, and the dialog closes. */
  document.addEventListener("hipkit:dialog-action", function (event) {
    if (event.detail.action !== "rollback-confirm") return;
    var boxes = document.querySelectorAll(".hipkit-page li > input[type=checkbox]");
    var ready = Array.prototype.every.call(boxes, function (box) { return box.checked; });
    document.getElementById("rollback-note").hidden = ready;
    if (!ready) { event.preventDefault(); return; }
    var what = deploy ? deploy.service + " " + deploy.commit : "the last deploy";
    window.HipChat.chat.appendMessage("Rolling back " + what + " to the release before it.");
  });
})();
