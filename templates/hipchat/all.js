/* HipChat's JavaScript API for add-on views, as the local HipChat of `hipkit dev` and
   `hipkit emulate` provides it. A view (sidebar panel, dialog, configuration page) loads this
   file instead of https://www.hipchat.com/atlassian-connect/all.js; every call travels to the
   room page over postMessage, and the room's events come back the same way. Outside a frame
   of the local HipChat the calls fail with an error, as HipChat's did outside HipChat. */
(function () {
  "use strict";
  if (window.HipChat && window.HipChat.__local) return;

  var host = window.parent !== window ? window.parent : null;
  /* The room's origin, from the xdm_e parameter the local HipChat adds to every view URL;
     messages go to that origin only, and only its messages are heard. */
  var hostOrigin = (function () {
    try { return new URL(new URLSearchParams(window.location.search).get("xdm_e") || "").origin; } catch (e) { return "*"; }
  })();
  var pending = {};
  var nextId = 1;
  var handlers = {};
  var queued = [];

  function post(message) {
    message.__hipchat = 1;
    if (host) host.postMessage(message, hostOrigin);
  }

  /* A call to the room; `done(err, result)` gets its answer. */
  function call(method, args, done) {
    if (!host) {
      if (done) setTimeout(function () { done(new Error("HipChat." + method + " works only inside HipChat")); }, 0);
      return;
    }
    var id = nextId++;
    if (done) pending[id] = done;
    post({ type: "call", id: id, method: method, args: args === undefined ? null : args });
  }

  function deliver(name, payload, eventId) {
    var handler = handlers[name];
    if (!handler) {
      /* A button nobody listens to closes the dialog, as in HipChat; other events wait for
         the page to register for them. */
      if (name === "dialog-button-click") post({ type: "unhandled", name: name, eventId: eventId });
      else queued.push({ name: name, payload: payload, eventId: eventId });
      return;
    }
    if (name === "dialog-button-click") {
      var answered = false;
      handler(payload, function closeDialog(close) {
        if (answered) return;
        answered = true;
        post({ type: "dialog-button-answer", eventId: eventId, close: close !== false });
      });
      return;
    }
    handler(payload);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.__hipchat !== 1 || event.source !== host) return;
    if (hostOrigin !== "*" && event.origin !== hostOrigin) return;
    if (data.type === "result") {
      var done = pending[data.id];
      delete pending[data.id];
      if (done) done(data.error ? new Error(data.error) : null, data.result);
    } else if (data.type === "event") {
      deliver(data.name, data.payload, data.eventId);
    }
  });

  function callback(method) {
    return function (callbackFn) {
      call(method, null, typeof callbackFn === "function" ? callbackFn : null);
    };
  }

  function withOptions(method) {
    return function (options, callbackFn) {
      call(method, options || {}, typeof callbackFn === "function" ? callbackFn : null);
    };
  }

  var HipChat = {
    __local: true,
    /* {"dialog-button-click": fn(event, closeDialog), "receive-parameters": fn(parameters),
       "<action key>": fn(message)}. Events that arrived before the handler are handed over now. */
    register: function (map) {
      var names = [];
      Object.keys(map || {}).forEach(function (name) {
        if (typeof map[name] === "function") {
          handlers[name] = map[name];
          names.push(name);
        }
      });
      var waiting = queued;
      queued = [];
      waiting.forEach(function (item) {
        if (handlers[item.name]) deliver(item.name, item.payload, item.eventId);
        else queued.push(item);
      });
      post({ type: "register", events: names });
    },
    dialog: {
      open: withOptions("dialog.open"),
      close: function () { call("dialog.close", null, null); },
      update: withOptions("dialog.update"),
      updatePrimaryAction: withOptions("dialog.updatePrimaryAction")
    },
    sidebar: {
      openView: withOptions("sidebar.openView"),
      closeView: function () { call("sidebar.closeView", null, null); }
    },
    auth: {
      withToken: callback("auth.withToken"),
      withTokenAsync: function () {
        return new Promise(function (resolve, reject) {
          call("auth.withToken", null, function (err, token) { if (err) reject(err); else resolve(token); });
        });
      }
    },
    user: {
      getCurrentUser: callback("user.getCurrentUser"),
      open: withOptions("user.open")
    },
    room: {
      getRoomDetails: callback("room.getRoomDetails"),
      getParticipants: callback("room.getParticipants"),
      open: withOptions("room.open"),
      create: function (name, topic, privacy, callbackFn) { call("room.create", { name: name, topic: topic, privacy: privacy }, callbackFn); },
      invite: function (userIds, callbackFn) { call("room.invite", { userIds: userIds }, callbackFn); }
    },
    chat: {
      focus: function () { call("chat.focus", null, null); },
      appendMessage: function (text, callbackFn) { call("chat.appendMessage", { text: String(text) }, callbackFn); },
      addFileForUploadWithBase64: function (data, name, callbackFn) { call("chat.addFileForUploadWithBase64", { name: name }, callbackFn); }
    },
    file: {
      openInFileViewer: function (file, files, callbackFn) { call("file.openInFileViewer", { file: file }, callbackFn); }
    }
  };

  window.HipChat = HipChat;
  /* Older add-ons used AP. */
  if (!window.AP) window.AP = HipChat;
  post({ type: "ready" });
})();
