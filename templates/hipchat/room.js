/* The local HipChat's page: draws the group's rooms and the room shown, as the server
   describes them (api/state), follows
   it over Server-Sent Events (api/events), and plays HipChat's side of the views' JavaScript
   API for the sidebar panel and the dialog, whose all.js talks to this page over postMessage.
   What HipChat decided (conditions, signatures, sanitising) is decided by the server. */
(function () {
  "use strict";

  var state = null;
  /* The two places a view can be: the sidebar panel and the dialog. */
  var views = { panel: null, dialog: null };
  var nextEvent = 1;
  var refreshTimer = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "html") node.innerHTML = value; /* HTML the server sanitised */
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function safeUrl(url) { return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null; }

  function api(name, body) {
    var init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    return fetch("api/" + name, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) throw new Error(json.error || json.message || ("HTTP " + response.status));
        return json;
      });
    });
  }

  function toast(text, isError) {
    var box = $("hc-toast") || document.body.appendChild(el("div", { id: "hc-toast", role: "status" }));
    box.textContent = text;
    box.className = isError ? "hc-toast hc-toast-error" : "hc-toast";
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, isError ? 8000 : 3000);
  }

  function fail(error) { toast(String(error && error.message || error), true); }

  /* ---------- state ---------- */

  /* The page is drawn again only when the state changed. Drawing replaces the elements, and a
     click pressed on one drawing of a button and released on the next is lost: the room is told
     of changes that leave it as it was (its own descriptor read, a room entered again). */
  function refresh(fresh) {
    return api("state" + (fresh ? "?fresh=1" : "")).then(function (next) {
      var log = next.log;
      delete next.log;
      var drawn = JSON.stringify(next);
      if (drawn !== refresh.drawn) {
        refresh.drawn = drawn;
        state = next;
        render();
      }
      if (log && !refresh.loggedOnce) {
        refresh.loggedOnce = true;
        log.forEach(appendLog);
      }
      refresh.count = (refresh.count || 0) + 1;
    }).catch(fail);
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () { refresh(false); }, 30);
  }

  function render() {
    $("hc-room-name").textContent = state.room.name;
    $("hc-room-privacy").textContent = state.room.privacy === "private" ? "private" : "";
    $("hc-room-topic").textContent = state.room.topic;
    $("hc-rename-room").hidden = !state.may.administerRoom || !$("hc-rename-form").hidden;
    if (!state.may.administerRoom) $("hc-rename-form").hidden = true;
    document.body.dataset.room = String(state.room.id);
    renderRooms();
    renderGroupAdmin();
    renderRoles();
    renderAddonBar();
    renderInstall();
    renderMessages();
    renderInputActions();
    renderRoomEvents();
    renderGlances();
    document.body.dataset.installed = state.installation ? "yes" : "no";
    // The message box suggests the add-on's own slash commands, when it has any.
    var commands = (state.addon && state.addon.commands) || [];
    $("hc-input").placeholder = commands.length
      ? "Send a message, or a slash command such as " + commands.join(", ") : "Send a message";
  }

  /* The rooms the person played sees; the add-on's mark on those it is installed in. */
  function renderRooms() {
    var list = $("hc-room-list");
    list.textContent = "";
    state.rooms.forEach(function (room) {
      list.appendChild(el("li", {}, [el("button", { class: "hc-room-link", "data-room": String(room.id),
        "aria-current": room.current ? "true" : "false", title: room.privacy + " room",
        onclick: function () { if (!room.current) enterRoom(room.id); } }, [
        el("span", { class: "hc-room-name", text: room.name }),
        room.privacy === "private" ? el("span", { class: "hc-privacy", text: "private" }) : null,
        room.installed ? el("span", { class: "hc-room-installed", title: "the add-on is installed " + (room.installed === "global" ? "for all rooms" : "in this room"),
          text: room.installed === "global" ? "all" : "room" }) : null
      ])]));
    });
    $("hc-new-room").hidden = !state.may.createRooms;
  }

  /* Views belong to their room: they close when another room is shown. */
  function enterRoom(id) {
    closePanel(); closeDialog();
    return api("enter", { room: id }).catch(fail);
  }

  /* The group admin's view: every installation, with update and uninstall, and the rooms. */
  function renderGroupAdmin() {
    $("hc-group-admin-open").hidden = !state.may.administerGroup;
    if (!state.may.administerGroup) $("hc-group-admin").hidden = true;
    var body = $("hc-admin-installations");
    body.textContent = "";
    if (!state.installations.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "4", class: "hc-muted", text: "The add-on is not installed." })]));
    }
    state.installations.forEach(function (installation) {
      body.appendChild(el("tr", { class: "hc-admin-installation", "data-oauth-id": installation.oauthId,
        "data-scope": installation.scope }, [
        el("td", { text: installation.scope === "global" ? "for all rooms" : "in " + installation.roomName }),
        el("td", { text: new Date(installation.installedAt).toLocaleString() }),
        el("td", {}, [el("code", { text: installation.oauthId })]),
        el("td", {}, [
          el("button", { class: "hc-link-button hc-admin-update", text: "Update", onclick: function () { update(installation.oauthId); } }),
          el("button", { class: "hc-link-button hc-admin-uninstall", text: "Uninstall", onclick: function () { uninstall(installation); } })
        ])
      ]));
    });
    var rooms = $("hc-admin-rooms");
    rooms.textContent = "";
    state.rooms.forEach(function (room) {
      rooms.appendChild(el("tr", {}, [el("td", { text: room.name }), el("td", { text: room.privacy }),
        el("td", { text: room.installed === "global" ? "installed for all rooms" : room.installed === "room" ? "installed in this room" : "—" })]));
    });
  }

  /* Uninstalls `installation` (the one covering the room shown when not given), after asking. */
  function uninstall(installation) {
    var everywhere = installation.scope === "global";
    if (!window.confirm("Uninstall " + state.addon.name + (everywhere ? " from every room" : " from " + (installation.roomName || state.room.name)) +
      "? Its glances, views and webhooks leave " + (everywhere ? "every room" : "the room") + ", and HipChat stops issuing its credentials.")) return;
    closePanel(); closeDialog();
    api("uninstall", { oauthId: installation.oauthId }).then(function (answer) {
      // uninstalledUrl: the add-on hears of it in the browser, then sends it back here.
      if (answer && safeUrl(answer.redirect)) { location.href = answer.redirect; return; }
      toast("Uninstalled");
    }).catch(fail);
  }

  function renderRoles() {
    var select = $("hc-role");
    if (select.options.length !== state.roles.length) {
      select.textContent = "";
      state.roles.forEach(function (role) { select.appendChild(el("option", { value: role, text: role === "owner" ? "room owner" : role })); });
    }
    select.value = state.role;
  }

  function renderAddonBar() {
    var bar = $("hc-addon-bar");
    bar.textContent = "";
    if (state.addonError && !state.installation) {
      bar.appendChild(el("span", { class: "hc-error", text: state.addonError }));
      bar.appendChild(el("button", { class: "hc-link-button", text: "Try again", onclick: function () { refresh(true); } }));
      return;
    }
    if (!state.addon) return;
    bar.appendChild(el("span", { class: "hc-addon-name", text: state.addon.name }));
    if (!state.installation) {
      bar.appendChild(el("span", { class: "hc-muted", text: "not installed" }));
      return;
    }
    bar.appendChild(el("span", { class: "hc-muted", id: "hc-installation",
      text: "installed " + (state.installation.scope === "room" ? "in this room" : "for all rooms") }));
    if (state.installation.descriptorChanged) {
      // HipChat kept the installed descriptor until an update; say so, and offer it.
      bar.appendChild(el("span", { class: "hc-error", id: "hc-descriptor-changed", text: "The descriptor changed." }));
      bar.appendChild(el("button", { class: "hc-link-button", id: "hc-update-now", text: "Update now",
        onclick: function () { update(); } }));
    }
    if (state.addon.configurable) {
      bar.appendChild(el("button", { class: "hc-link-button", text: "Configure", onclick: function () { openTarget("configurable", {}); } }));
    }
    bar.appendChild(el("button", { class: "hc-link-button", id: "hc-refresh-glances", text: "Reload glances",
      onclick: function () { api("glances/refresh", {}).catch(fail); } }));
    if (!state.installation.manageable) return;
    bar.appendChild(el("button", { class: "hc-link-button", id: "hc-update", text: "Update",
      title: state.addon.hasUpdateCallback ? "POST updateCallbackUrl" : "a fresh install to callbackUrl (no updateCallbackUrl)",
      onclick: function () { update(); } }));
    bar.appendChild(el("button", { class: "hc-link-button", id: "hc-uninstall", text: "Uninstall",
      onclick: function () { uninstall(state.installation); } }));
  }

  var scopeText = {
    send_notification: "Send notifications to the room", send_message: "Send private messages", view_room: "View the room and its participants",
    admin_room: "Administer the room", view_group: "View users, rooms and the group", admin_group: "Administer the group",
    manage_rooms: "Create, change and delete rooms", view_messages: "Read messages", import_data: "Import data"
  };

  function renderInstall() {
    var box = $("hc-install");
    box.textContent = "";
    box.hidden = !!state.installation || !state.addon;
    if (box.hidden) return;
    var addon = state.addon;
    var scopes = el("ul", { class: "hc-scopes" }, addon.scopes.map(function (scope) {
      return el("li", { text: (scopeText[scope] || scope) + " (" + scope + ")" });
    }));
    var inRoom = addon.allowRoom && state.may.installInRoom;
    var globally = addon.allowGlobal && state.may.installGlobally;
    var buttons = el("div", { class: "hc-install-buttons" }, [
      inRoom ? el("button", { class: "hc-primary", id: "hc-install-room", text: "Approve and install in " + state.room.name,
        onclick: function () { install(true); } }) : null,
      globally ? el("button", { class: "hc-primary", id: "hc-install-global", text: "Approve and install for all rooms",
        onclick: function () { install(false); } }) : null
    ]);
    // Why a button is missing: HipChat let group admins install anywhere and room owners in
    // their room, and a room has one installation at most.
    var elsewhere = state.installations.filter(function (i) { return i.scope === "room"; }).map(function (i) { return i.roomName; });
    var why = null;
    if (addon.allowGlobal && !globally && elsewhere.length) {
      why = "It is installed in " + elsewhere.join(", ") + ": uninstall it there to install it for all rooms.";
    } else if (!inRoom && !globally) {
      why = !state.may.administerRoom ? "Only a group admin or this room's owner can install it here." :
        addon.allowGlobal ? "It installs for all rooms only (installable.allowRoom: false), which a group admin does." :
        "The descriptor allows no install: installable.allowRoom and allowGlobal are both false.";
    }
    box.appendChild(el("div", { class: "hc-install-card" }, [
      safeUrl(addon.avatar) ? el("img", { src: addon.avatar, alt: "", class: "hc-install-avatar" }) : null,
      el("h2", { text: "Install " + addon.name + "?" }),
      el("p", { text: addon.description }),
      el("p", { class: "hc-muted", text: "From " + state.descriptorUrl }),
      el("h3", { text: addon.scopes.length ? "It will be able to:" : "It asks for no access to HipChat." }),
      scopes, buttons, why ? el("p", { class: "hc-muted", id: "hc-install-why", text: why }) : null
    ]));
  }

  function update(oauthId) {
    api("update", oauthId ? { oauthId: oauthId } : {}).then(function (answer) {
      // updatedUrl: the add-on reads the installation in the browser, then sends it back here.
      if (answer && safeUrl(answer.redirect)) { location.href = answer.redirect; return; }
      toast("Updated");
    }).catch(fail);
  }

  function install(inRoom) {
    document.querySelectorAll(".hc-install-buttons button").forEach(function (b) { b.disabled = true; });
    api("install", { room: inRoom }).then(function (answer) {
      // HipChat's browser flow (installedUrl): the add-on reads the installation, then sends the
      // browser back here.
      if (answer && safeUrl(answer.redirect)) { location.href = answer.redirect; return; }
      toast("Installed");
    }).catch(function (error) {
      fail(error);
      document.querySelectorAll(".hc-install-buttons button").forEach(function (b) { b.disabled = false; });
      refresh(false);
    });
  }

  function renderMessages() {
    var list = $("hc-messages");
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    var openMenu = list.querySelector(".hc-menu:not([hidden])");
    var openFor = openMenu ? openMenu.closest(".hc-message").dataset.id : null;
    list.textContent = "";
    state.messages.forEach(function (message) {
      var menu = null;
      var menuButton = null;
      if (message.actions.length) {
        menu = el("ul", { class: "hc-menu", hidden: openFor !== message.id }, message.actions.map(function (action) {
          return el("li", {}, [el("button", { class: "hc-action", "data-key": action.key, text: action.name, onclick: function () {
            menu.hidden = true;
            openTarget(action.target, { action: action.key, message: message.id, options: action.targetOptions });
          } })]);
        }));
        menuButton = el("button", { class: "hc-message-menu", title: "Actions", "aria-label": "Message actions", text: "…",
          onclick: function () { menu.hidden = !menu.hidden; } });
      }
      list.appendChild(el("li", { class: "hc-message hc-" + message.kind + (message.color ? " hc-color-" + message.color : "") + (message.mine ? " hc-mine" : ""),
        "data-id": message.id }, [
        el("div", { class: "hc-message-head" }, [
          el("strong", { class: "hc-sender", text: message.sender }),
          el("time", { datetime: message.date, text: new Date(message.date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
          menuButton, menu
        ]),
        el("div", { class: "hc-message-body", html: message.html }),
        message.card ? renderCard(message.card) : null
      ]));
    });
    if (atBottom || !renderMessages.drawn) list.scrollTop = list.scrollHeight;
    renderMessages.drawn = true;
  }

  /* A card as HipChat drew one: icon, linked title, description, attributes with lozenges,
     thumbnail and activity line. */
  function renderCard(card) {
    var title = safeUrl(card.url) ? el("a", { href: card.url, target: "_blank", rel: "noopener", text: card.title }) : el("span", { text: card.title });
    var description = card.description && card.description.value ? el("div", { class: "hc-card-description", html: card.description.value }) : null;
    var attributes = Array.isArray(card.attributes) && card.attributes.length ? el("ul", { class: "hc-card-attributes" }, card.attributes.map(function (attribute) {
      var value = attribute.value || {};
      var style = typeof value.style === "string" && /^lozenge(-(success|error|current|complete|moved))?$/.test(value.style) ? value.style : null;
      var text = safeUrl(value.url) ? el("a", { href: value.url, target: "_blank", rel: "noopener", text: value.label }) : el("span", { text: value.label });
      var holder = el("span", { class: "hc-card-value" + (style ? " hc-lozenge hc-" + style : "") }, [
        value.icon && safeUrl(value.icon.url) ? el("img", { src: value.icon.url, alt: "" }) : null, text]);
      return el("li", {}, [el("span", { class: "hc-card-label", text: attribute.label }), holder]);
    })) : null;
    var thumbnail = card.thumbnail && safeUrl(card.thumbnail.url) ? el("img", { class: "hc-card-thumbnail", src: card.thumbnail.url, alt: "" }) : null;
    var icon = card.icon && safeUrl(card.icon.url) ? el("img", { class: "hc-card-icon", src: card.icon.url, alt: "" }) : null;
    var activity = card.activity && card.activity.html ? el("div", { class: "hc-card-activity", html: card.activity.html }) : null;
    return el("div", { class: "hc-card hc-card-" + card.style + (card.format ? " hc-card-" + card.format : ""), "data-card-id": card.id }, [
      icon,
      el("div", { class: "hc-card-main" }, [el("div", { class: "hc-card-title" }, [title]), activity, description, attributes]),
      thumbnail
    ]);
  }

  function renderInputActions() {
    var box = $("hc-input-actions");
    box.textContent = "";
    (state.inputActions || []).forEach(function (action) {
      box.appendChild(el("button", { type: "button", class: "hc-input-action", "data-key": action.key, text: action.name, onclick: function () {
        openTarget(action.target, { action: action.key, options: action.targetOptions });
      } }));
    });
  }

  function renderRoomEvents() {
    var box = $("hc-room-events");
    box.textContent = "";
    var events = state.installation && state.addon ? state.addon.webhookEvents : [];
    ["room_enter", "room_exit", "room_topic_change"].forEach(function (event) {
      if (events.indexOf(event) < 0) return;
      box.appendChild(el("button", { type: "button", class: "hc-link-button", "data-event": event, text: "Fire " + event, onclick: function () {
        var topic = event === "room_topic_change" ? window.prompt("New topic", state.room.topic) : null;
        if (event === "room_topic_change" && topic === null) return;
        api("room-event", { event: event, topic: topic }).catch(fail);
      } }));
    });
  }

  function renderGlances() {
    var box = $("hc-glances");
    box.textContent = "";
    if (!state.installation) {
      box.appendChild(el("p", { class: "hc-muted", text: "Glances show here once the add-on is installed." }));
      return;
    }
    if (!state.glances.length) box.appendChild(el("p", { class: "hc-muted", text: "No glance shows for a " + state.role + "." }));
    state.glances.forEach(function (glance) {
      var data = glance.data;
      var status = null;
      if (data && data.status && data.status.type === "lozenge") {
        status = el("span", { class: "hc-lozenge hc-lozenge-" + data.status.lozenge, text: data.status.label });
      } else if (data && data.status && data.status.type === "icon" && safeUrl(data.status.url)) {
        status = el("img", { class: "hc-glance-status-icon", src: data.status.url, alt: "" });
      }
      box.appendChild(el("button", { class: "hc-glance" + (glance.error ? " hc-glance-failed" : ""), "data-key": glance.key,
        title: glance.error || glance.name, onclick: function () {
          if (glance.target) openTarget(glance.target, { options: glance.targetOptions });
        } }, [
        safeUrl(glance.icon) ? el("img", { class: "hc-glance-icon", src: glance.icon, srcset: safeUrl(glance.icon2x) ? glance.icon2x + " 2x" : null, alt: "" }) : null,
        el("span", { class: "hc-glance-label", html: data ? data.label : null, text: data ? null : glance.name }),
        status
      ]));
    });
  }

  /* ---------- views ---------- */

  function openTarget(target, how) {
    if (!target) return Promise.resolve();
    return api("open", { target: target, action: how.action, message: how.message, urlTemplateValues: how.urlTemplateValues, options: how.options,
      roomOrigin: window.location.origin })
      .then(function (view) {
        var events = [];
        if (how.parameters !== undefined) events.push({ name: "receive-parameters", payload: how.parameters });
        if (view.actionKey) events.push({ name: view.actionKey, payload: view.message || null });
        if (view.kind === "webPanel") showPanel(view, events);
        else if (view.kind === "dialog" || view.kind === "configurable") showDialog(view, events);
        else window.open(view.url, "_blank", "noopener");
        return view;
      }).catch(fail);
  }

  function showPanel(view, events) {
    views.panel = { kind: "panel", key: view.key, events: events, frame: $("hc-panel-frame"), origin: new URL(view.url).origin };
    $("hc-panel-title").textContent = view.name;
    $("hc-glances").hidden = true;
    $("hc-panel").hidden = false;
    $("hc-panel-frame").src = view.url;
  }

  function closePanel() {
    views.panel = null;
    $("hc-panel").hidden = true;
    $("hc-glances").hidden = false;
    $("hc-panel-frame").removeAttribute("src");
  }

  var sizes = { small: ["400px", "250px"], medium: ["600px", "400px"], large: ["800px", "560px"], xlarge: ["950px", "650px"] };

  function showDialog(view, events) {
    var options = view.options || {};
    views.dialog = { kind: "dialog", key: view.key, events: events, frame: $("hc-dialog-frame"), options: options,
      origin: new URL(view.url).origin };
    var size = typeof options.size === "string" ? sizes[options.size] : (options.size && options.size.width ? [options.size.width, options.size.height] : null);
    size = size || sizes.medium;
    var box = $("hc-dialog").querySelector(".hc-dialog");
    box.style.width = "min(" + size[0] + ", 96vw)";
    box.style.height = "min(" + size[1] + ", 90vh)";
    box.className = "hc-dialog" + (options.style === "warning" ? " hc-dialog-warning" : "");
    $("hc-dialog-title").textContent = options.title ? text(options.title) : view.name;
    var filter = $("hc-dialog-filter");
    filter.hidden = !options.filter;
    filter.placeholder = options.filter ? text(options.filter.placeholder) || "Filter" : "";
    filter.value = "";
    applyDialogOptions(options);
    $("hc-dialog").hidden = false;
    $("hc-dialog-frame").src = view.url;
  }

  function text(value) { return typeof value === "string" ? value : (value && value.value) || ""; }

  function applyDialogOptions(options) {
    $("hc-dialog-hint").textContent = text(options.hint);
    var secondary = $("hc-dialog-secondary");
    secondary.textContent = "";
    (options.secondaryActions || []).forEach(function (button) {
      secondary.appendChild(el("button", { class: "hc-link-button hc-dialog-secondary", "data-key": button.key, text: text(button.name),
        disabled: button.enabled === false, onclick: function () { dialogButton(button.key); } }));
    });
    var primary = $("hc-dialog-primary");
    var action = options.primaryAction;
    primary.hidden = !action;
    if (action) {
      primary.textContent = text(action.name);
      primary.dataset.key = action.key || "primary-action-selected";
      primary.disabled = action.enabled === false;
    }
  }

  /* A dialog button: the view hears "dialog-button-click" and answers through closeDialog;
     a view that does not listen has its dialog closed, as in HipChat. */
  function dialogButton(key) {
    var view = views.dialog;
    if (!view) return;
    localLog("dialog-button-click", view, key);
    sendEvent(view, "dialog-button-click", { action: key });
  }

  function closeDialog() {
    if (!views.dialog) return;
    views.dialog = null;
    $("hc-dialog").hidden = true;
    $("hc-dialog-frame").removeAttribute("src");
  }

  /* Events go to the view's own origin only: a frame that has navigated elsewhere gets nothing. */
  function sendEvent(view, name, payload) {
    var frame = view.frame && view.frame.contentWindow;
    if (frame) frame.postMessage({ __hipchat: 1, type: "event", name: name, payload: payload, eventId: nextEvent++ }, view.origin);
  }

  function viewFor(source) {
    if (views.panel && source === $("hc-panel-frame").contentWindow) return views.panel;
    if (views.dialog && source === $("hc-dialog-frame").contentWindow) return views.dialog;
    return null;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.__hipchat !== 1) return;
    var view = viewFor(event.source);
    if (!view || event.origin !== view.origin) return;
    if (data.type === "ready") {
      var events = view.events;
      view.events = [];
      events.forEach(function (item) { sendEvent(view, item.name, item.payload); });
    } else if (data.type === "register") {
      localLog("HipChat.register", view, (data.events || []).join(", "));
    } else if (data.type === "unhandled") {
      if (data.name === "dialog-button-click" && view === views.dialog) closeDialog();
    } else if (data.type === "dialog-button-answer") {
      localLog("closeDialog(" + (data.close ? "true" : "false") + ")", view, "");
      if (data.close && view === views.dialog) closeDialog();
    } else if (data.type === "call") {
      handleCall(view, event.source, data);
    }
  });

  function handleCall(view, source, data) {
    var args = data.args || {};
    /* Answers (tokens among them) go back to the view's origin only. */
    function reply(error, result) {
      source.postMessage({ __hipchat: 1, type: "result", id: data.id, error: error ? String(error.message || error) : null,
        result: result === undefined ? null : result }, view.origin);
    }
    localLog("HipChat." + data.method, view, args && Object.keys(args).length ? JSON.stringify(args).slice(0, 200) : "");
    switch (data.method) {
      case "dialog.open":
      case "sidebar.openView":
        openTarget(args.key, { options: args.options, parameters: args.parameters === undefined ? undefined : args.parameters,
          urlTemplateValues: args.urlTemplateValues }).then(function (opened) { reply(opened ? null : "cannot open " + args.key, !!opened); });
        return;
      case "dialog.close": closeDialog(); return reply(null, true);
      case "dialog.update":
        if (!views.dialog) return reply("no dialog is open");
        Object.keys(args).forEach(function (name) { views.dialog.options[name] = args[name]; });
        if (args.title) $("hc-dialog-title").textContent = text(args.title);
        applyDialogOptions(views.dialog.options);
        return reply(null, true);
      case "dialog.updatePrimaryAction":
        if (!views.dialog) return reply("no dialog is open");
        var action = views.dialog.options.primaryAction || (views.dialog.options.primaryAction = { name: "OK" });
        Object.keys(args).forEach(function (name) { action[name] = args[name]; });
        applyDialogOptions(views.dialog.options);
        return reply(null, true);
      case "sidebar.closeView": closePanel(); return reply(null, true);
      case "auth.withToken":
        api("token", {}).then(function (answer) { reply(null, answer.token); }, function (error) { reply(error); });
        return;
      case "user.getCurrentUser":
      case "room.getRoomDetails":
      case "room.getParticipants":
        api("scoped", { call: data.method }).then(function (answer) { reply(null, answer.result); }, function (error) { reply(error); });
        return;
      case "chat.appendMessage":
        var input = $("hc-input");
        input.value = input.value + (input.value && !/\s$/.test(input.value) ? " " : "") + (args.text || "");
        return reply(null, true);
      case "chat.focus": $("hc-input").focus(); return reply(null, true);
      default:
        return reply("HipChat." + data.method + " is not available in the local HipChat (one room, no other chats or files)");
    }
  }

  /* ---------- event log ---------- */

  function appendLog(entry) {
    var list = $("hc-log");
    var details = [];
    if (entry.claims) details.push(el("pre", { class: "hc-claims", text: "JWT claims " + JSON.stringify(entry.claims, null, 2) }));
    if (entry.requestBody) details.push(el("pre", { text: "→ " + entry.requestBody }));
    if (entry.responseBody) details.push(el("pre", { text: "← " + entry.responseBody }));
    var statusClass = entry.status ? (entry.status < 400 ? "hc-ok" : "hc-bad") : "";
    var summary = el("summary", {}, [
      el("time", { text: new Date(entry.time).toLocaleTimeString() }),
      el("span", { class: "hc-direction", text: entry.direction }),
      el("span", { class: "hc-method", text: entry.method }),
      el("span", { class: "hc-url", text: entry.url }),
      entry.status ? el("span", { class: "hc-status " + statusClass, text: String(entry.status) }) : null,
      entry.ms !== undefined ? el("span", { class: "hc-ms", text: entry.ms + " ms" }) : null,
      entry.note ? el("span", { class: "hc-note", text: entry.note }) : null
    ]);
    var item = el("li", { class: "hc-log-entry", "data-direction": entry.direction }, [
      details.length ? el("details", {}, [summary].concat(details)) : el("div", {}, Array.prototype.slice.call(summary.childNodes))
    ]);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 300) list.removeChild(list.lastChild);
  }

  function localLog(what, view, detail) {
    appendLog({ time: new Date().toISOString(), direction: "view API", method: what, url: view.kind + " " + view.key, note: detail || null });
  }

  /* ---------- wiring ---------- */

  $("hc-role").addEventListener("change", function (event) {
    api("role", { role: event.target.value }).then(function () {
      // An open sidebar is opened again for the new person: its token is theirs, as
      // getCurrentUser already is.
      if (views.panel) openTarget(views.panel.key, {});
    }).catch(fail);
  });
  $("hc-compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("hc-input");
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    api("messages", { text: text }).catch(function (error) { input.value = text; fail(error); });
  });
  $("hc-new-room").addEventListener("submit", function (event) {
    event.preventDefault();
    var name = $("hc-new-room-name").value;
    if (!name.trim()) return;
    closePanel(); closeDialog();
    api("rooms", { name: name, privacy: $("hc-new-room-private").checked ? "private" : "public" }).then(function () {
      $("hc-new-room-name").value = "";
      $("hc-new-room-private").checked = false;
    }).catch(fail);
  });
  $("hc-rename-room").addEventListener("click", function () {
    $("hc-rename-input").value = state.room.name;
    $("hc-rename-form").hidden = false;
    $("hc-rename-room").hidden = true;
    $("hc-rename-input").focus();
  });
  function endRename() { $("hc-rename-form").hidden = true; if (state) render(); }
  $("hc-rename-cancel").addEventListener("click", endRename);
  $("hc-rename-form").addEventListener("submit", function (event) {
    event.preventDefault();
    api("rooms/rename", { room: state.room.id, name: $("hc-rename-input").value }).then(endRename).catch(fail);
  });
  $("hc-group-admin-open").addEventListener("click", function () { $("hc-group-admin").hidden = false; });
  $("hc-group-admin-close").addEventListener("click", function () { $("hc-group-admin").hidden = true; });
  $("hc-panel-back").addEventListener("click", closePanel);
  $("hc-panel-close").addEventListener("click", closePanel);
  $("hc-dialog-close").addEventListener("click", closeDialog);
  $("hc-dialog-primary").addEventListener("click", function (event) { dialogButton(event.target.dataset.key); });
  $("hc-dialog-filter").addEventListener("input", function (event) {
    if (views.dialog) sendEvent(views.dialog, "dialog-filter-changed", { value: event.target.value });
  });
  /* Links in notifications may name one of the add-on's modules (`data-target`), which
     HipChat opened instead of following the link. */
  $("hc-messages").addEventListener("click", function (event) {
    var link = event.target.closest("a[data-target]");
    if (!link) return;
    event.preventDefault();
    var message = link.closest(".hc-message");
    openTarget(link.dataset.target, { message: message ? message.dataset.id : undefined });
  });
  $("hc-log-clear").addEventListener("click", function () { $("hc-log").textContent = ""; });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeDialog(); $("hc-group-admin").hidden = true; }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".hc-message-head")) document.querySelectorAll(".hc-menu").forEach(function (menu) { menu.hidden = true; });
  });

  var source = new EventSource("api/events");
  source.addEventListener("log", function (event) { appendLog(JSON.parse(event.data)); });
  source.addEventListener("changed", scheduleRefresh);
  source.addEventListener("open", function () { if (state) scheduleRefresh(); });

  /* Under `hipkit dev`, rebuilds are announced: a new descriptor is read at once while the
     add-on is not installed, and offered as an update once it is (HipChat kept the installed
     descriptor until an update); new static glance data is fetched again. */
  fetch("/_hipkit/dev/status").then(function (response) {
    if (!response.ok) return;
    var dev = new EventSource("/_hipkit/dev/events");
    // A failed rebuild shows on the room page too, not only inside open views; the room keeps
    // running the last good build.
    function showProblems(problems) {
      var banner = $("hc-build-failed");
      var errors = (problems || []).filter(function (p) { return p.severity === "error"; });
      banner.hidden = errors.length === 0;
      banner.textContent = "";
      if (!errors.length) return;
      var first = errors[0];
      var where = first.file ? first.file + (first.line ? ":" + first.line + ":" + first.column : "") + ": " : "";
      banner.appendChild(el("strong", { text: "The last rebuild failed with " + errors.length + " error" + (errors.length === 1 ? "" : "s") + ". " }));
      banner.appendChild(el("code", { text: where + first.message }));
      banner.appendChild(el("span", { text: " — the room still runs the last good build." }));
    }
    dev.addEventListener("hello", function (event) { showProblems(JSON.parse(event.data).problems); });
    dev.addEventListener("failed", function (event) { showProblems(JSON.parse(event.data).problems); });
    dev.addEventListener("built", function (event) {
      showProblems([]);
      var changed = JSON.parse(event.data).changed || [];
      if (changed.indexOf("atlassian-connect.json") >= 0) {
        // Read at once; while the add-on is installed the room then offers the update.
        refresh(true);
      }
      if (state && state.installation && changed.some(function (path) { return /^glances\//.test(path); })) {
        api("glances/refresh", {}).catch(fail);
      }
    });
  }).catch(function () { /* not under hipkit dev */ });

  window.__hipchatRoom = {
    state: function () { return state; }, views: views,
    /* How many state fetches have been answered, drawn or not. */
    refreshes: function () { return refresh.count || 0; }
  };
  refresh(true);
})();
