/*
 * Test stand-in for HipChat's https://www.hipchat.com/atlassian-connect/all.js.
 *
 * HipChat is retired, so pages under test load this file instead. It defines window.HipChat with the
 * shape of the real client API, but nothing talks to a HipChat client: calls are only recorded, and
 * functions that take a callback answer it (asynchronously, like the real postMessage-based API) with
 * fixed sample data. That is enough for a page's wiring to run without errors in a plain browser.
 *
 * For tests: HipChat.standIn.calls lists every call ({name, args}); HipChat.standIn.handlers holds
 * what was passed to register(); HipChat.standIn.trigger(event, payload) calls one of those handlers.
 */
(function () {
  "use strict";

  var standIn = { calls: [], handlers: {} };

  function record(name, args) {
    standIn.calls.push({ name: name, args: Array.prototype.slice.call(args) });
  }

  // A function that just records it was called.
  function noop(name) {
    return function () { record(name, arguments); };
  }

  // A function whose last argument is a node-style callback, answered with `value` on a later tick.
  function answering(name, value) {
    return function () {
      record(name, arguments);
      var callback = arguments[arguments.length - 1];
      if (typeof callback === "function") {
        setTimeout(function () { callback(null, value); }, 0);
      }
    };
  }

  var user = { id: 1, name: "Stand-in User", mention_name: "standin", email: "standin@example.com" };
  var room = { id: 1, name: "Stand-in Room", topic: "", privacy: "public" };

  standIn.trigger = function (event, payload) {
    var handler = standIn.handlers[event];
    return typeof handler === "function" ? handler(payload) : undefined;
  };

  window.HipChat = {
    standIn: standIn,
    register: function (handlers) {
      record("register", arguments);
      for (var key in handlers || {}) {
        if (Object.prototype.hasOwnProperty.call(handlers, key)) standIn.handlers[key] = handlers[key];
      }
    },
    dialog: {
      open: noop("dialog.open"),
      close: noop("dialog.close"),
      update: noop("dialog.update"),
      updatePrimaryAction: noop("dialog.updatePrimaryAction")
    },
    sidebar: {
      openView: noop("sidebar.openView"),
      closeView: noop("sidebar.closeView")
    },
    auth: { withToken: answering("auth.withToken", "stand-in-token") },
    user: { getCurrentUser: answering("user.getCurrentUser", user) },
    room: {
      getRoomDetails: answering("room.getRoomDetails", room),
      getParticipants: answering("room.getParticipants", [user])
    },
    chat: { appendMessage: noop("chat.appendMessage") }
  };
})();
