// "Post a status update": tells the room this sidebar is open in that the incident is being
// worked on. The view asks HipChat for a JWT and posts the notification to hipkit serve, which
// sends it to that room only (addon.yaml: viewNotifications: true). No back end of our own.
(function () {
  var button = document.getElementById("post-status");
  var result = document.getElementById("post-status-result");
  if (!button || !window.HipChat) return;
  button.addEventListener("click", function () {
    button.disabled = true;
    result.textContent = "Posting…";
    HipChat.auth.withToken(function (error, token) {
      if (error) {
        result.textContent = "HipChat gave no token: " + error.message;
        button.disabled = false;
        return;
      }
      fetch(new URL("_hipkit/notifications", document.baseURI), {
        method: "POST",
        headers: { "Authorization": "JWT " + token, "Content-Type": "application/json" },
        body: JSON.stringify({
          message: "Status update: the on-call engineer is investigating.",
          message_format: "text",
          color: "yellow"
        })
      }).then(function (response) {
        return response.json().then(function (body) {
          result.textContent = response.ok ? "Posted to the room." : "Not posted: " + body.error;
          button.disabled = false;
        });
      }).catch(function (failure) {
        result.textContent = "Not posted: " + failure.message;
        button.disabled = false;
      });
    });
  });
})();
