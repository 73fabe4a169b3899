// The dialog's buttons reach the page as "hipkit:dialog-action" events ({action, known}).
// Calling preventDefault() keeps the dialog open; otherwise it closes after the handler.
document.addEventListener("hipkit:dialog-action", function (event) {
  if (event.detail.action !== "task-save" && event.detail.action !== "task-save-mine") return;
  var form = document.getElementById("task-form");
  if (!form || !form.reportValidity()) { event.preventDefault(); return; }
  // Send the task to your server here, signed with window.hipkit.signedRequest.
});
