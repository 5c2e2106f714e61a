/*
 * Moderato's comment widget. A blog page embeds it with
 *   <div id="moderato-thread" data-article="KEY" data-title="TITLE"></div>
 *   <script src="https://COMMENTS-HOST/embed.js" defer></script>
 * and shows comment counts on any element with data-moderato-count="KEY".
 *
 * It talks only to the server it was loaded from, with fetch and without
 * cookies: a signed-in commenter's session token is kept in this page's
 * localStorage and sent as a bearer token, so signing in works where the
 * browser blocks third-party cookies. A guest's edit tokens live there too.
 * Comment HTML comes from the server's sanitizer; everything else is put
 * in the page as text.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || !script.src) return;
  // Where the server is: the script's URL without "/embed.js", so a
  // server behind a path (https://blog.example/comments/embed.js) works.
  var BASE = script.src.replace(/\/embed\.js([?#].*)?$/, '');
  var ORIGIN = new URL(BASE).origin;
  var API = BASE + '/api/v1';
  var STYLESHEET = BASE + '/embed.css?v=__MODERATO_CSS_VERSION__';

  /* ---- Words ---------------------------------------------------------- */

  var plural = function (one, many) {
    return function (n) { return (n === 1 ? one : many).replace('{n}', n); };
  };
  var WORDS = {
    en: {
      comments: plural('{n} comment', '{n} comments'),
      noComments: 'No comments yet. Be the first.',
      oldest: 'Oldest first', newest: 'Newest first', order: 'Order',
      loadMore: 'Load more comments', loading: 'Loading comments…',
      loadFailed: 'The comments could not be loaded.', retry: 'Try again',
      comment: 'Comment', name: 'Name', email: 'Email', website: 'Website',
      optional: '(optional)', emailHint: 'Never shown to anyone.',
      markdownHint: 'Markdown works: *italic*, **bold**, [link](https://…), `code`.',
      remember: 'Remember my name and email on this device',
      post: 'Post comment', postReply: 'Post reply', posting: 'Posting…',
      preview: 'Preview', hidePreview: 'Hide preview', previewLabel: 'Preview of your comment',
      reply: 'Reply', cancel: 'Cancel', edit: 'Edit', save: 'Save', del: 'Delete',
      reallyDelete: 'Delete this comment?', yesDelete: 'Yes, delete', keep: 'Keep it',
      deleted: 'This comment was deleted.', edited: 'edited',
      held: 'Awaiting moderation: only you can see this comment for now.',
      heldShort: 'awaiting moderation',
      inReplyTo: 'in reply to', replyTo: function (n) { return 'Reply to ' + n; },
      posted: 'Your comment is published.',
      postedHeld: 'Thank you. Your comment is waiting for a moderator; you will see it here until then.',
      savedEdit: 'Your changes are saved.', deletedOwn: 'Your comment is deleted.',
      closed: 'Comments are closed on this page.',
      signIn: 'Sign in', signOut: 'Sign out', register: 'Create account',
      signInOr: 'Sign in or create an account, or comment as a guest below.',
      signInToComment: 'Sign in or create an account to comment.',
      signedInAs: 'Signed in as', commentingAs: 'Commenting as',
      password: 'Password', passwordHint: function (n) { return 'At least ' + n + ' characters.'; },
      haveAccount: 'I have an account', noAccount: 'I need an account',
      signingIn: 'Signing in…', signedIn: 'You are signed in.', signedOut: 'You are signed out.',
      required: 'Please fill this in.', badEmail: 'This does not look like an email address.',
      badUrl: 'A website starts with http:// or https://.',
      tooLong: function (n) { return 'At most ' + n + ' bytes, please.'; },
      tooShort: function (n) { return 'At least ' + n + ' characters, please.'; },
      fixFields: 'Please correct the marked fields.',
      rateLimited: function (w) { return 'You are posting too often. Please wait ' + w + ' and try again.'; },
      duplicate: 'You already posted this comment here.',
      banned: 'You may not comment here.',
      signInRequired: 'Please sign in to comment.',
      editWindow: 'The time to edit this comment is over.',
      notAuthor: 'Only the author can do this.',
      invalidCredentials: 'That email and password do not match an account.',
      registrationClosed: 'New accounts cannot be created here.',
      sessionEnded: 'Your session has ended; please sign in again.',
      network: 'The comment server could not be reached. Check your connection and try again.',
      failed: 'Something went wrong on the comment server. Please try again later.',
      count: plural('{n} comment', '{n} comments'),
      seconds: plural('{n} second', '{n} seconds'), minutes: plural('{n} minute', '{n} minutes'),
      permalink: 'Link to this comment', account: 'account'
    },
    de: {
      comments: plural('{n} Kommentar', '{n} Kommentare'),
      noComments: 'Noch keine Kommentare. Schreiben Sie den ersten.',
      oldest: 'Älteste zuerst', newest: 'Neueste zuerst', order: 'Reihenfolge',
      loadMore: 'Weitere Kommentare laden', loading: 'Kommentare werden geladen…',
      loadFailed: 'Die Kommentare konnten nicht geladen werden.', retry: 'Erneut versuchen',
      comment: 'Kommentar', name: 'Name', email: 'E-Mail', website: 'Website',
      optional: '(optional)', emailHint: 'Wird niemandem angezeigt.',
      markdownHint: 'Markdown geht: *kursiv*, **fett**, [Link](https://…), `Code`.',
      remember: 'Name und E-Mail auf diesem Gerät merken',
      post: 'Kommentar senden', postReply: 'Antwort senden', posting: 'Wird gesendet…',
      preview: 'Vorschau', hidePreview: 'Vorschau ausblenden', previewLabel: 'Vorschau Ihres Kommentars',
      reply: 'Antworten', cancel: 'Abbrechen', edit: 'Bearbeiten', save: 'Speichern', del: 'Löschen',
      reallyDelete: 'Diesen Kommentar löschen?', yesDelete: 'Ja, löschen', keep: 'Behalten',
      deleted: 'Dieser Kommentar wurde gelöscht.', edited: 'bearbeitet',
      held: 'Wartet auf Freigabe: Vorerst sehen nur Sie diesen Kommentar.',
      heldShort: 'wartet auf Freigabe',
      inReplyTo: 'Antwort an', replyTo: function (n) { return 'Antwort an ' + n; },
      posted: 'Ihr Kommentar ist veröffentlicht.',
      postedHeld: 'Danke. Ihr Kommentar wartet auf die Freigabe; bis dahin sehen Sie ihn hier.',
      savedEdit: 'Ihre Änderungen sind gespeichert.', deletedOwn: 'Ihr Kommentar ist gelöscht.',
      closed: 'Die Kommentare zu dieser Seite sind geschlossen.',
      signIn: 'Anmelden', signOut: 'Abmelden', register: 'Konto anlegen',
      signInOr: 'Melden Sie sich an, legen Sie ein Konto an, oder kommentieren Sie unten als Gast.',
      signInToComment: 'Melden Sie sich an oder legen Sie ein Konto an, um zu kommentieren.',
      signedInAs: 'Angemeldet als', commentingAs: 'Sie kommentieren als',
      password: 'Passwort', passwordHint: function (n) { return 'Mindestens ' + n + ' Zeichen.'; },
      haveAccount: 'Ich habe ein Konto', noAccount: 'Ich brauche ein Konto',
      signingIn: 'Anmeldung…', signedIn: 'Sie sind angemeldet.', signedOut: 'Sie sind abgemeldet.',
      required: 'Bitte ausfüllen.', badEmail: 'Das sieht nicht wie eine E-Mail-Adresse aus.',
      badUrl: 'Eine Website beginnt mit http:// oder https://.',
      tooLong: function (n) { return 'Höchstens ' + n + ' Bytes, bitte.'; },
      tooShort: function (n) { return 'Mindestens ' + n + ' Zeichen, bitte.'; },
      fixFields: 'Bitte korrigieren Sie die markierten Felder.',
      rateLimited: function (w) { return 'Sie schreiben zu oft. Bitte warten Sie ' + w + ' und versuchen Sie es dann erneut.'; },
      duplicate: 'Diesen Kommentar haben Sie hier schon geschrieben.',
      banned: 'Sie dürfen hier nicht kommentieren.',
      signInRequired: 'Bitte melden Sie sich zum Kommentieren an.',
      editWindow: 'Die Zeit zum Bearbeiten dieses Kommentars ist vorbei.',
      notAuthor: 'Das kann nur der Autor.',
      invalidCredentials: 'E-Mail und Passwort passen zu keinem Konto.',
      registrationClosed: 'Hier können keine neuen Konten angelegt werden.',
      sessionEnded: 'Ihre Sitzung ist abgelaufen; bitte melden Sie sich erneut an.',
      network: 'Der Kommentar-Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
      failed: 'Beim Kommentar-Server ging etwas schief. Bitte versuchen Sie es später erneut.',
      count: plural('{n} Kommentar', '{n} Kommentare'),
      seconds: plural('{n} Sekunde', '{n} Sekunden'), minutes: plural('{n} Minute', '{n} Minuten'),
      permalink: 'Link zu diesem Kommentar', account: 'Konto'
    }
  };

  function languageOf(el) {
    var holder = el && el.closest('[lang]');
    var tag = (holder && holder.lang) || document.documentElement.lang || 'en';
    var primary = tag.toLowerCase().split('-')[0];
    return WORDS[primary] ? primary : 'en';
  }

  /* ---- Small tools ---------------------------------------------------- */

  var ids = 0;
  function uid(name) { ids += 1; return 'moderato-' + name + '-' + ids; }

  // An element: h('p', {class: 'x', text: 'y', onclick: f}, child, ...).
  function h(tag, attrs) {
    var el = document.createElement(tag);
    var name;
    for (name in attrs || {}) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') el.textContent = value;
      else if (name === 'class') el.className = value;
      else if (name.slice(0, 2) === 'on') el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? '' : value);
    }
    for (var i = 2; i < arguments.length; i += 1) {
      if (arguments[i]) el.append(arguments[i]);
    }
    return el;
  }

  // localStorage, which a browser may refuse; then the page forgets on reload.
  var store = (function () {
    var prefix = 'moderato:' + BASE + ':';
    var memory = {};
    function get(key) {
      var raw;
      try { raw = window.localStorage.getItem(prefix + key); } catch (e) { raw = memory[key]; }
      try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
    }
    function set(key, value) {
      var raw = value === null ? null : JSON.stringify(value);
      try {
        if (raw === null) window.localStorage.removeItem(prefix + key);
        else window.localStorage.setItem(prefix + key, raw);
      } catch (e) {
        if (raw === null) delete memory[key]; else memory[key] = raw;
      }
    }
    return { get: get, set: set };
  }());

  // A call to the API: never rejects; {ok, status, data, retryAfter}.
  function api(method, path, body, auth) {
    var headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && auth.session) headers.Authorization = 'Bearer ' + auth.session;
    if (auth && auth.editToken) headers['X-Edit-Token'] = auth.editToken;
    return fetch(API + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors'
    }).then(function (res) {
      var retry = parseInt(res.headers.get('Retry-After') || '', 10);
      var answer = { ok: res.ok, status: res.status, data: null, retryAfter: isNaN(retry) ? null : retry };
      if (res.status === 204) return answer;
      return res.json().then(function (data) { answer.data = data; return answer; },
        function () { return answer; });
    }, function () {
      return { ok: false, status: 0, data: null, retryAfter: null };
    });
  }

  function errorOf(answer) {
    return (answer.data && answer.data.error) || { code: answer.status ? 'failed' : 'network' };
  }

  /* ---- Counts on index pages ------------------------------------------ */

  function showCounts() {
    var els = Array.prototype.slice.call(document.querySelectorAll('[data-moderato-count]'));
    var keys = [];
    els.forEach(function (el) {
      var key = el.getAttribute('data-moderato-count');
      if (key && keys.indexOf(key) < 0) keys.push(key);
    });
    for (var start = 0; start < keys.length; start += 100) {
      var chunk = keys.slice(start, start + 100);
      var query = chunk.map(function (k) { return 'article=' + encodeURIComponent(k); }).join('&');
      api('GET', '/counts?' + query).then(function (answer) {
        if (!answer.ok) return;
        els.forEach(function (el) {
          var n = answer.data.counts[el.getAttribute('data-moderato-count')];
          if (typeof n === 'number') el.textContent = WORDS[languageOf(el)].count(n);
        });
      });
    }
  }

  /* ---- Avatars, drawn here from the avatar key ------------------------ */

  var SVG = 'http://www.w3.org/2000/svg';
  function avatar(key, name) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'mo-avatar');
    svg.setAttribute('viewBox', '0 0 5 5');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var bits = key && /^[0-9a-f]{16,}$/i.test(key) ? key : null;
    if (!bits) {
      svg.classList.add('mo-avatar-none');
      var letter = document.createElementNS(SVG, 'text');
      letter.setAttribute('x', '2.5');
      letter.setAttribute('y', '3.4');
      letter.setAttribute('text-anchor', 'middle');
      letter.textContent = (name || '?').trim().charAt(0).toUpperCase() || '?';
      svg.append(letter);
      return svg;
    }
    var hue = parseInt(bits.slice(0, 3), 16) % 360;
    var cells = parseInt(bits.slice(3, 7), 16);
    // A 5x5 pattern mirrored left to right, as one path.
    var d = '';
    for (var i = 0; i < 15; i += 1) {
      if (!((cells >> i) & 1)) continue;
      var row = i % 5;
      var col = Math.floor(i / 5);
      d += 'M' + col + ' ' + row + 'h1v1h-1z';
      if (col !== 2) d += 'M' + (4 - col) + ' ' + row + 'h1v1h-1z';
    }
    var path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'hsl(' + hue + ' 55% 45%)');
    svg.append(path);
    return svg;
  }

  // Light or dark, as the page around the thread looks: the first colour
  // behind it that is not transparent, by its luminance.
  function pageTheme(el) {
    for (var at = el; at; at = at.parentElement) {
      var rgba = (getComputedStyle(at).backgroundColor.match(/[\d.]+/g) || []).map(Number);
      if (rgba.length >= 3 && (rgba.length < 4 || rgba[3] > 0.5)) {
        return 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2] < 128 ? 'dark' : 'light';
      }
    }
    // No background anywhere: the canvas, dark only where the page allows
    // dark (its color-scheme) and the reader's system asks for it.
    var allowsDark = /dark/.test(getComputedStyle(document.documentElement).colorScheme || '');
    return allowsDark && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  /* ---- The thread ----------------------------------------------------- */

  function Thread(root) {
    this.root = root;
    this.key = root.getAttribute('data-article') || window.location.pathname;
    this.title = root.getAttribute('data-title') || document.title;
    this.pageUrl = window.location.href.split('#')[0];
    this.lang = languageOf(root);
    this.t = WORDS[this.lang];
    // Formatters are costly to make: one each, for every comment.
    this.relative = new Intl.RelativeTimeFormat(this.lang, { numeric: 'auto' });
    this.dates = new Intl.DateTimeFormat(this.lang, { dateStyle: 'long', timeStyle: 'short' });
    this.mine = store.get('own') || {};
    this.order = 'oldest';
    this.nodes = new Map();
    this.waiting = new Map();
    this.cursor = null;
    this.total = 0;
    this.open = true;
    this.session = store.get('session');
    if (this.session && Date.parse(this.session.expires_at) < Date.now()) this.dropSession();
  }

  Thread.prototype.start = function () {
    var self = this;
    var t = this.t;
    this.status = h('p', { class: 'mo-status', role: 'status', 'aria-live': 'polite' });
    this.heading = h('h2', { class: 'mo-heading', id: uid('heading'), text: t.loading });
    this.list = h('ol', { class: 'mo-list' });
    this.more = h('button', { type: 'button', class: 'mo-more', hidden: true, text: t.loadMore,
      onclick: function () { self.loadPage(); } });
    this.accountBar = h('div', { class: 'mo-account' });
    this.composer = h('div', { class: 'mo-composer' });
    this.toolbar = h('div', { class: 'mo-toolbar', hidden: true });
    this.section = h('section', { class: 'moderato', 'aria-labelledby': this.heading.id, lang: this.lang },
      this.heading, this.accountBar, this.composer, this.toolbar, this.status, this.list, this.more);
    var theme = this.root.getAttribute('data-theme');
    this.section.setAttribute('data-theme', theme === 'dark' || theme === 'light' ? theme : pageTheme(this.root));
    this.root.replaceChildren(this.section);
    this.buildToolbar();
    return Promise.all([api('GET', '/config'), this.fetchPage()]).then(function (answers) {
      if (!answers[0].ok) {
        self.failed(answers[0]);
        return;
      }
      self.cfg = answers[0].data;
      self.drawAccount();
      self.showPage(answers[1]);
      self.checkSession();
      return self.showOwnHeld();
    });
  };

  Thread.prototype.failed = function (answer) {
    var self = this;
    if (!answer.status && window.location.origin !== ORIGIN && window.console) {
      // The usual cause on a new blog: the server refuses this origin.
      window.console.warn('Moderato: ' + BASE + ' could not be reached from this page. If it is running, add "'
        + window.location.origin + '" to server.cors_origins in its configuration.');
    }
    this.heading.textContent = this.t.loadFailed;
    this.composer.replaceChildren(h('button', { type: 'button', class: 'mo-more', text: this.t.retry,
      onclick: function () { self.start(); } }));
  };

  Thread.prototype.buildToolbar = function () {
    var self = this;
    var t = this.t;
    var group = h('div', { role: 'group', 'aria-label': t.order, class: 'mo-order' });
    ['oldest', 'newest'].forEach(function (order) {
      group.append(h('button', { type: 'button', 'aria-pressed': String(order === self.order),
        'data-order': order, text: t[order], onclick: function () { self.reorder(order); } }));
    });
    this.toolbar.append(group);
  };

  Thread.prototype.reorder = function (order) {
    if (order === this.order) return;
    this.order = order;
    this.toolbar.querySelectorAll('[data-order]').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-order') === order));
    });
    this.list.replaceChildren();
    this.nodes.clear();
    this.waiting.clear();
    this.cursor = null;
    var self = this;
    return this.loadPage().then(function () { return self.showOwnHeld(); });
  };

  Thread.prototype.fetchPage = function () {
    var query = '?sort=' + this.order + (this.cursor ? '&cursor=' + encodeURIComponent(this.cursor) : '');
    return api('GET', '/articles/' + encodeURIComponent(this.key) + '/comments' + query);
  };

  Thread.prototype.loadPage = function () {
    var self = this;
    this.more.disabled = true;
    return this.fetchPage().then(function (answer) {
      self.more.disabled = false;
      self.showPage(answer);
    });
  };

  // A page of the thread into the tree; the time it takes is the
  // performance measure "moderato-render".
  Thread.prototype.showPage = function (answer) {
    var self = this;
    if (!answer.ok) {
      this.say(this.messageFor(answer), true);
      if (!this.nodes.size) this.heading.textContent = this.t.loadFailed;
      return;
    }
    var page = answer.data;
    var started = performance.now();
    var open = !page.article || page.article.comments_open;
    var reopened = open !== this.open || !this.composer.firstChild;
    this.open = open;
    this.total = page.total;
    this.cursor = page.next_cursor;
    var fragment = document.createDocumentFragment();
    page.comments.forEach(function (c) { self.add(c, { top: fragment }); });
    this.list.append(fragment);
    if (!this.cursor) this.flushOrphans();
    this.more.hidden = !this.cursor;
    this.toolbar.hidden = this.total < 2;
    this.countHeading();
    if (reopened) this.drawComposer();
    performance.measure('moderato-render', { start: started });
  };

  Thread.prototype.countHeading = function () {
    this.heading.textContent = this.t.comments(this.total);
    if (!this.total && !this.nodes.size && !this.list.querySelector('.mo-empty')) {
      this.list.append(h('li', { class: 'mo-empty', text: this.t.noComments }));
    } else if (this.nodes.size) {
      var empty = this.list.querySelector('.mo-empty');
      if (empty) empty.remove();
    }
  };

  // Replies whose parent never came (it is not public): shown at the top.
  Thread.prototype.flushOrphans = function () {
    var self = this;
    this.waiting.forEach(function (children) {
      children.forEach(function (c) { c.parent_id = null; self.add(c, {}); });
    });
    this.waiting.clear();
  };

  // Puts a comment in the tree: top-level ones in page order, replies under
  // their parent by id (the order they were written), indented up to the
  // configured depth and then beside their parent, saying whom they answer.
  Thread.prototype.add = function (c, how) {
    if (this.nodes.has(c.id)) return this.nodes.get(c.id);
    var parent = c.parent_id === null ? null : this.nodes.get(c.parent_id);
    if (c.parent_id !== null && !parent) {
      if (how.held) {
        parent = null;
      } else {
        var queue = this.waiting.get(c.parent_id) || [];
        queue.push(c);
        this.waiting.set(c.parent_id, queue);
        return null;
      }
    }
    var maxDepth = (this.cfg && this.cfg.max_depth) || 4;
    var depth = parent ? Math.min(parent.depth + 1, maxDepth) : 0;
    var node = { c: c, depth: depth, parent: parent, held: !!how.held };
    node.item = h('li', { class: 'mo-item', 'data-id': c.id });
    node.article = this.drawComment(node);
    node.item.append(node.article);
    if (depth < maxDepth) {
      node.replies = h('ol', { class: 'mo-replies' });
      node.item.append(node.replies);
    } else {
      node.replies = parent.replies;
    }
    this.nodes.set(c.id, node);
    if (!parent) {
      if (how.first) this.list.prepend(node.item);
      else (how.top || this.list).append(node.item);
    } else {
      insertById(parent.replies, node.item, c.id);
    }
    var children = this.waiting.get(c.id);
    if (children) {
      this.waiting.delete(c.id);
      var self = this;
      children.forEach(function (child) { self.add(child, {}); });
    }
    return node;
  };

  function insertById(list, item, id) {
    var kids = list.children;
    for (var i = 0; i < kids.length; i += 1) {
      if (Number(kids[i].getAttribute('data-id')) > id) {
        list.insertBefore(item, kids[i]);
        return;
      }
    }
    list.append(item);
  }

  Thread.prototype.drawComment = function (node) {
    var self = this;
    var t = this.t;
    var c = node.c;
    var article = h('article', { class: 'mo-comment', id: 'moderato-comment-' + c.id, tabindex: '-1' });
    if (c.deleted) {
      article.classList.add('mo-deleted');
      article.append(h('p', { class: 'mo-body', text: t.deleted }));
      return article;
    }
    var author = c.author || { name: '?' };
    var name = author.url && /^https?:\/\//i.test(author.url)
      ? h('a', { href: author.url, rel: 'nofollow ugc noopener noreferrer', target: '_blank', text: author.name })
      : h('span', { text: author.name });
    var when = new Date(c.created_at);
    var date = this.dates.format(when);
    var time = h('time', { datetime: c.created_at, title: date, text: this.ago(when) });
    var head = h('header', { class: 'mo-head' },
      avatar(author.avatar, author.name),
      h('span', { class: 'mo-author' }, name),
      author.registered ? h('span', { class: 'mo-badge', text: t.account }) : null,
      h('a', { class: 'mo-when', href: '#moderato-comment-' + c.id, 'aria-label': t.permalink + ' (' + date + ')' }, time),
      c.edited_at ? h('span', { class: 'mo-edited', text: t.edited }) : null);
    article.append(head);
    if (node.held) {
      article.classList.add('mo-held');
      article.append(h('p', { class: 'mo-held-note', text: t.held }));
    }
    if (node.parent && node.parent.depth === node.depth) {
      var them = node.parent.c.author ? node.parent.c.author.name : '…';
      article.append(h('p', { class: 'mo-reply-to' }, t.inReplyTo + ' ',
        h('a', { href: '#moderato-comment-' + node.parent.c.id, text: them })));
    }
    var body = h('div', { class: 'mo-body' });
    body.innerHTML = c.html; // the server's sanitizer made this HTML
    article.append(body);
    var actions = h('div', { class: 'mo-actions' });
    if (this.open && !node.held) {
      actions.append(h('button', { type: 'button', class: 'mo-link', text: t.reply,
        'aria-label': t.replyTo(author.name), onclick: function () { self.openReply(node); } }));
    }
    var mine = this.own(c.id);
    if (mine) {
      if (mine.u > Date.now()) {
        actions.append(h('button', { type: 'button', class: 'mo-link', text: t.edit,
          onclick: function () { self.openEdit(node); } }));
      }
      actions.append(h('button', { type: 'button', class: 'mo-link', text: t.del,
        onclick: function (e) { self.askDelete(node, e.currentTarget); } }));
    }
    if (actions.childNodes.length) article.append(actions);
    return article;
  };

  Thread.prototype.redraw = function (node) {
    var fresh = this.drawComment(node);
    node.article.replaceWith(fresh);
    node.article = fresh;
  };

  Thread.prototype.ago = function (when) {
    var seconds = (when.getTime() - Date.now()) / 1000;
    var units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
      ['hour', 3600], ['minute', 60]];
    var format = this.relative;
    for (var i = 0; i < units.length; i += 1) {
      if (Math.abs(seconds) >= units[i][1]) return format.format(Math.round(seconds / units[i][1]), units[i][0]);
    }
    return format.format(0, 'second');
  };

  /* ---- What this browser wrote ---------------------------------------- */

  // {id: {a: article key, t: edit token, u: editable until (ms), s: status, acct: user id}}
  // Read from memory (this.mine); written through to storage after a fresh
  // read, so another tab's additions are kept.
  Thread.prototype.changeOwn = function (change) {
    this.mine = store.get('own') || {};
    change(this.mine);
    store.set('own', this.mine);
  };
  Thread.prototype.own = function (id) {
    var mine = this.mine[id];
    if (!mine) return null;
    if (mine.acct && (!this.session || this.session.user.id !== mine.acct)) return null;
    return mine;
  };
  Thread.prototype.remember = function (comment) {
    var entry = {
      a: this.key,
      t: comment.edit_token || null,
      u: Date.parse(comment.editable_until),
      s: comment.status,
      acct: this.session ? this.session.user.id : null
    };
    this.changeOwn(function (all) {
      if (!entry.t && all[comment.id]) entry.t = all[comment.id].t;
      all[comment.id] = entry;
      var ids = Object.keys(all);
      if (ids.length > 300) {
        ids.sort(function (a, b) { return a - b; }).slice(0, ids.length - 300)
          .forEach(function (id) { delete all[id]; });
      }
    });
  };
  Thread.prototype.forget = function (id) {
    this.changeOwn(function (all) { delete all[id]; });
  };
  Thread.prototype.proof = function (id) {
    var mine = this.own(id);
    return { session: this.session && this.session.token, editToken: mine && mine.t };
  };

  // Held comments this browser wrote on this article, asked about again:
  // still held ones are shown (to their author only: nobody else has the
  // proof), published ones come with the thread, rejected ones are dropped.
  Thread.prototype.showOwnHeld = function () {
    var self = this;
    var all = this.mine;
    var waiting = Object.keys(all).filter(function (id) {
      return all[id].a === self.key && all[id].s === 'pending' && !self.nodes.has(Number(id)) && self.own(id);
    }).slice(-20);
    return Promise.all(waiting.map(function (id) {
      return api('GET', '/comments/' + id, undefined, self.proof(id)).then(function (answer) {
        if (answer.ok) {
          self.changeOwn(function (all) { if (all[id]) all[id].s = answer.data.status; });
          if (answer.data.status === 'pending') self.add(answer.data, { held: true });
        } else if (answer.status === 403 || answer.status === 404) {
          self.forget(id);
        }
      });
    })).then(function () { self.countHeading(); });
  };

  /* ---- Accounts -------------------------------------------------------- */

  Thread.prototype.dropSession = function () {
    this.session = null;
    store.set('session', null);
  };

  Thread.prototype.checkSession = function () {
    var self = this;
    if (!this.session) return;
    api('GET', '/me', undefined, { session: this.session.token }).then(function (answer) {
      if (answer.status === 401) self.sessionEnded();
    });
  };

  Thread.prototype.sessionEnded = function () {
    this.dropSession();
    this.drawAccount();
    this.drawComposer();
    this.say(this.t.sessionEnded, true);
  };

  Thread.prototype.drawAccount = function () {
    var self = this;
    var t = this.t;
    var bar = this.accountBar;
    bar.replaceChildren();
    if (this.session) {
      bar.append(h('p', {}, t.signedInAs + ' ', h('strong', { text: this.session.user.name }), ' ',
        h('button', { type: 'button', class: 'mo-link', text: t.signOut, onclick: function () { self.signOut(); } })));
      return;
    }
    var guests = !this.cfg || this.cfg.allow_guests;
    bar.append(h('p', {}, (guests ? t.signInOr : t.signInToComment) + ' ',
      h('button', { type: 'button', class: 'mo-link', text: t.signIn, 'aria-expanded': 'false',
        onclick: function () { self.openSignIn(false); } }),
      this.cfg && this.cfg.allow_registration
        ? h('button', { type: 'button', class: 'mo-link', text: t.register,
          onclick: function () { self.openSignIn(true); } })
        : null));
  };

  Thread.prototype.openSignIn = function (registering) {
    var self = this;
    var t = this.t;
    var cfg = this.cfg;
    var existing = this.accountBar.querySelector('form');
    if (existing) existing.remove();
    var form = h('form', { class: 'mo-form mo-signin', novalidate: true });
    var fields = {};
    function field(name, label, attrs, hint) {
      var input = h('input', Object.assign({ id: uid(name), name: name }, attrs));
      fields[name] = input;
      form.append(fieldBox(input, label, hint));
    }
    if (registering) field('name', t.name, { type: 'text', autocomplete: 'nickname', required: true, maxlength: cfg.max_name_bytes });
    field('email', t.email, { type: 'email', autocomplete: 'email', required: true, maxlength: cfg.max_email_bytes });
    field('password', t.password, { type: 'password', required: true,
      autocomplete: registering ? 'new-password' : 'current-password', minlength: registering ? cfg.min_password_chars : null },
      registering ? t.passwordHint(cfg.min_password_chars) : null);
    var status = h('p', { class: 'mo-form-status', role: 'status', 'aria-live': 'polite' });
    var submit = h('button', { type: 'submit', class: 'mo-primary', text: registering ? t.register : t.signIn });
    form.append(h('div', { class: 'mo-buttons' }, submit,
      cfg.allow_registration ? h('button', { type: 'button', class: 'mo-link',
        text: registering ? t.haveAccount : t.noAccount, onclick: function () { self.openSignIn(!registering); } }) : null,
      h('button', { type: 'button', class: 'mo-link', text: t.cancel, onclick: function () {
        form.remove();
        self.accountBar.querySelector('button').focus();
      } })), status);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      clearErrors(form);
      var problems = [];
      Object.keys(fields).forEach(function (name) {
        var input = fields[name];
        var problem = !input.value.trim() ? t.required
          : name === 'email' && !/^[^@\s]+@[^@\s]+$/.test(input.value.trim()) ? t.badEmail
            : name === 'password' && registering && input.value.length < cfg.min_password_chars ? t.tooShort(cfg.min_password_chars)
              : null;
        if (problem) problems.push([input, problem]);
      });
      if (problems.length) {
        problems.forEach(function (p) { fieldError(p[0], p[1]); });
        problems[0][0].focus();
        return;
      }
      submit.disabled = true;
      status.textContent = t.signingIn;
      var email = fields.email.value.trim();
      var password = fields.password.value;
      var registered = registering
        ? api('POST', '/auth/register', { email: email, password: password, name: fields.name.value.trim() })
        : Promise.resolve({ ok: true });
      registered.then(function (answer) {
        if (!answer.ok) return answer;
        return api('POST', '/auth/login', { email: email, password: password,
          device_token: store.get('device') || undefined });
      }).then(function (answer) {
        submit.disabled = false;
        if (!answer.ok) {
          status.textContent = '';
          self.showError(answer, form, { email: fields.email, password: fields.password, name: fields.name });
          return;
        }
        self.session = { token: answer.data.token, expires_at: answer.data.expires_at, user: answer.data.user };
        store.set('session', self.session);
        if (answer.data.device_token) store.set('device', answer.data.device_token);
        self.drawAccount();
        self.drawComposer();
        self.redrawAll();
        self.say(t.signedIn);
        var box = self.composer.querySelector('textarea');
        if (box) box.focus();
      });
    });
    this.accountBar.append(form);
    form.querySelector('input').focus();
  };

  Thread.prototype.signOut = function () {
    var token = this.session && this.session.token;
    this.dropSession();
    if (token) api('POST', '/auth/logout', undefined, { session: token });
    this.drawAccount();
    this.drawComposer();
    this.redrawAll();
    this.say(this.t.signedOut);
    this.accountBar.querySelector('button').focus();
  };

  Thread.prototype.redrawAll = function () {
    var self = this;
    this.nodes.forEach(function (node) { self.redraw(node); });
  };

  /* ---- Forms ----------------------------------------------------------- */

  function fieldBox(input, label, hint) {
    var error = h('p', { class: 'mo-error', id: input.id + '-error', hidden: true });
    var described = [error.id];
    var hintEl = null;
    if (hint) {
      hintEl = h('p', { class: 'mo-hint', id: input.id + '-hint', text: hint });
      described.push(hintEl.id);
    }
    input.setAttribute('aria-describedby', described.join(' '));
    return h('div', { class: 'mo-field' }, h('label', { for: input.id, text: label }), input, hintEl, error);
  }

  function fieldError(input, message) {
    input.setAttribute('aria-invalid', 'true');
    var error = document.getElementById(input.id + '-error');
    if (error) { error.textContent = message; error.hidden = false; }
  }

  function clearErrors(form) {
    form.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
    form.querySelectorAll('.mo-error').forEach(function (el) { el.textContent = ''; el.hidden = true; });
  }

  Thread.prototype.drawComposer = function () {
    if (!this.cfg) return;
    var had = this.composer.querySelector('textarea');
    var draft = had ? had.value : '';
    this.composer.replaceChildren();
    if (!this.open) {
      this.composer.append(h('p', { class: 'mo-closed', text: this.t.closed }));
      return;
    }
    if (!this.session && !this.cfg.allow_guests) return;
    var form = this.commentForm(null, null);
    form.querySelector('textarea').value = draft;
    this.composer.append(form);
  };

  Thread.prototype.openReply = function (node) {
    if (!this.session && !this.cfg.allow_guests) { this.openSignIn(false); return; }
    var existing = node.article.querySelector('.mo-form');
    if (existing) { existing.querySelector('textarea').focus(); return; }
    var form = this.commentForm(node, function () { form.remove(); });
    node.article.append(form);
    form.querySelector('textarea').focus();
  };

  // The form for a new comment (parent null) or a reply.
  Thread.prototype.commentForm = function (parent, close) {
    var self = this;
    var t = this.t;
    var cfg = this.cfg;
    var form = h('form', { class: 'mo-form', novalidate: true });
    var fields = {};
    var body = h('textarea', { id: uid('body'), name: 'body', rows: parent ? 3 : 4, required: true });
    fields.body = body;
    form.append(fieldBox(body, parent ? t.replyTo(parent.c.author ? parent.c.author.name : '') : t.comment, t.markdownHint));
    var preview = h('div', { class: 'mo-preview mo-body', hidden: true, 'aria-label': t.previewLabel, role: 'region' });
    form.append(preview);
    if (this.session) {
      form.append(h('p', { class: 'mo-as' }, t.commentingAs + ' ', h('strong', { text: this.session.user.name })));
    } else {
      var known = store.get('guest') || {};
      var required = cfg.require_name_email;
      var guest = h('div', { class: 'mo-guest' });
      var addField = function (name, label, attrs, hint) {
        var input = h('input', Object.assign({ id: uid(name), name: name, value: known[name] || null }, attrs));
        fields[name] = input;
        guest.append(fieldBox(input, label + (attrs.required ? '' : ' ' + t.optional), hint));
      };
      addField('name', t.name, { type: 'text', autocomplete: 'name', required: required, maxlength: cfg.max_name_bytes });
      addField('email', t.email, { type: 'email', autocomplete: 'email', required: required, maxlength: cfg.max_email_bytes }, t.emailHint);
      if (cfg.website_field) addField('url', t.website, { type: 'url', autocomplete: 'url', maxlength: cfg.max_url_bytes });
      var rememberId = uid('remember');
      fields.remember = h('input', { type: 'checkbox', id: rememberId, checked: !!known.name || !!known.email });
      guest.append(h('div', { class: 'mo-check' }, fields.remember, h('label', { for: rememberId, text: t.remember })));
      form.append(guest);
      if (cfg.honeypot_field) {
        // For bots: hidden from people and from assistive technology.
        var trapId = uid('trap');
        fields.trap = h('input', { type: 'text', id: trapId, name: cfg.honeypot_field, tabindex: '-1', autocomplete: 'off' });
        form.append(h('div', { class: 'mo-trap', 'aria-hidden': 'true' }, h('label', { for: trapId, text: 'Leave this empty' }), fields.trap));
      }
    }
    var status = h('p', { class: 'mo-form-status', role: 'status', 'aria-live': 'polite' });
    var submit = h('button', { type: 'submit', class: 'mo-primary', text: parent ? t.postReply : t.post });
    var previewButton = h('button', { type: 'button', class: 'mo-secondary', text: t.preview, 'aria-expanded': 'false',
      onclick: function () { self.togglePreview(body, preview, previewButton); } });
    form.append(h('div', { class: 'mo-buttons' }, submit, previewButton,
      close ? h('button', { type: 'button', class: 'mo-link', text: t.cancel, onclick: close }) : null), status);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      self.submit(form, fields, parent, submit, status, close);
    });
    return form;
  };

  Thread.prototype.togglePreview = function (body, preview, button) {
    var t = this.t;
    if (!preview.hidden) {
      preview.hidden = true;
      button.textContent = t.preview;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    if (!body.value.trim()) { fieldError(body, t.required); body.focus(); return; }
    var self = this;
    api('POST', '/preview', { body: body.value }).then(function (answer) {
      if (!answer.ok) { self.showError(answer, body.form, { body: body }); return; }
      preview.innerHTML = answer.data.html; // sanitized by the server
      preview.hidden = false;
      button.textContent = t.hidePreview;
      button.setAttribute('aria-expanded', 'true');
    });
  };

  Thread.prototype.checkFields = function (fields) {
    var t = this.t;
    var cfg = this.cfg;
    var problems = [];
    var bytes = function (s) { return new TextEncoder().encode(s).length; };
    var need = function (input, problem) { if (problem) problems.push([input, problem]); };
    need(fields.body, !fields.body.value.trim() ? t.required
      : bytes(fields.body.value) > cfg.max_body_bytes ? t.tooLong(cfg.max_body_bytes) : null);
    if (fields.name) {
      var name = fields.name.value.trim();
      var email = fields.email.value.trim();
      need(fields.name, !name && cfg.require_name_email ? t.required : null);
      need(fields.email, !email && cfg.require_name_email ? t.required
        : email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? t.badEmail : null);
      if (fields.url) {
        var url = fields.url.value.trim();
        need(fields.url, url && !/^https?:\/\/\S+$/i.test(url) ? t.badUrl : null);
      }
    }
    return problems;
  };

  Thread.prototype.submit = function (form, fields, parent, submit, status, close) {
    var self = this;
    var t = this.t;
    clearErrors(form);
    var problems = this.checkFields(fields);
    if (problems.length) {
      problems.forEach(function (p) { fieldError(p[0], p[1]); });
      status.textContent = t.fixFields;
      problems[0][0].focus();
      return;
    }
    var payload = {
      body: fields.body.value,
      parent_id: parent ? parent.c.id : null,
      article: { title: this.title, url: this.pageUrl }
    };
    var guest = null;
    if (!this.session && fields.name) {
      var known = store.get('guest') || {};
      guest = {
        name: fields.name.value.trim(),
        email: fields.email.value.trim(),
        url: fields.url ? fields.url.value.trim() : ''
      };
      payload.author = {
        name: guest.name || null,
        email: guest.email || null,
        url: guest.url || null,
        token: known.email && known.email === guest.email ? known.token : null
      };
      if (fields.trap) payload[this.cfg.honeypot_field] = fields.trap.value;
    }
    submit.disabled = true;
    status.textContent = t.posting;
    var path = '/articles/' + encodeURIComponent(this.key) + '/comments';
    api('POST', path, payload, { session: this.session && this.session.token }).then(function (answer) {
      submit.disabled = false;
      status.textContent = '';
      if (!answer.ok) {
        if (answer.status === 401 && self.session) { self.sessionEnded(); return; }
        self.showError(answer, form, {
          body: fields.body, 'author.name': fields.name, 'author.email': fields.email, 'author.url': fields.url
        });
        return;
      }
      var comment = answer.data;
      if (guest) {
        if (fields.remember.checked) {
          store.set('guest', { name: guest.name, email: guest.email, url: guest.url, token: comment.author_token || null });
        } else {
          store.set('guest', null);
        }
      }
      self.remember(comment);
      var held = comment.status !== 'approved';
      if (!held) self.total += 1;
      var node = self.add(comment, { held: held, first: !parent && self.order === 'newest' });
      if (close) close();
      else { fields.body.value = ''; form.querySelector('.mo-preview').hidden = true; }
      self.countHeading();
      self.say(held ? t.postedHeld : t.posted);
      if (node) {
        node.article.scrollIntoView({ block: 'nearest' });
        node.article.focus({ preventScroll: true });
      }
    });
  };

  Thread.prototype.openEdit = function (node) {
    var self = this;
    var t = this.t;
    if (node.article.querySelector('.mo-edit')) return;
    var mine = this.own(node.c.id);
    if (!mine || mine.u <= Date.now()) { this.say(t.editWindow, true); this.redraw(node); return; }
    var form = h('form', { class: 'mo-form mo-edit', novalidate: true });
    var body = h('textarea', { id: uid('edit'), name: 'body', rows: 4, required: true });
    body.value = node.c.body;
    var status = h('p', { class: 'mo-form-status', role: 'status', 'aria-live': 'polite' });
    var save = h('button', { type: 'submit', class: 'mo-primary', text: t.save });
    form.append(fieldBox(body, t.edit, t.markdownHint),
      h('div', { class: 'mo-buttons' }, save,
        h('button', { type: 'button', class: 'mo-link', text: t.cancel, onclick: function () { self.redraw(node); } })), status);
    var shown = node.article.querySelector('.mo-body');
    var actions = node.article.querySelector('.mo-actions');
    shown.hidden = true;
    if (actions) actions.hidden = true;
    shown.after(form);
    body.focus();
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      clearErrors(form);
      if (!body.value.trim()) { fieldError(body, t.required); body.focus(); return; }
      save.disabled = true;
      api('PATCH', '/comments/' + node.c.id, { body: body.value }, self.proof(node.c.id)).then(function (answer) {
        save.disabled = false;
        if (!answer.ok) { self.showError(answer, form, { body: body }); return; }
        var wasHeld = node.held;
        node.c = answer.data;
        node.held = answer.data.status !== 'approved';
        if (node.held && !wasHeld) self.total -= 1;
        self.remember(answer.data);
        self.redraw(node);
        self.countHeading();
        self.say(node.held ? t.postedHeld : t.savedEdit);
        node.article.focus();
      });
    });
  };

  Thread.prototype.askDelete = function (node, button) {
    var self = this;
    var t = this.t;
    var actions = button.parentNode;
    var confirm = h('span', { class: 'mo-confirm', role: 'group', 'aria-label': t.reallyDelete },
      h('span', { text: t.reallyDelete + ' ' }),
      h('button', { type: 'button', class: 'mo-danger', text: t.yesDelete, onclick: function () { self.remove(node); } }),
      h('button', { type: 'button', class: 'mo-link', text: t.keep, onclick: function () { self.redraw(node); node.article.focus(); } }));
    actions.replaceChildren(confirm);
    confirm.querySelector('.mo-danger').focus();
  };

  Thread.prototype.remove = function (node) {
    var self = this;
    api('DELETE', '/comments/' + node.c.id, undefined, this.proof(node.c.id)).then(function (answer) {
      if (!answer.ok) { self.showError(answer, null, {}); self.redraw(node); return; }
      self.forget(node.c.id);
      if (!node.held) self.total -= 1;
      var hasReplies = Array.prototype.some.call(node.replies.children, function (li) {
        var child = self.nodes.get(Number(li.getAttribute('data-id')));
        return child && child.parent === node;
      });
      if (hasReplies) {
        // Kept as a placeholder, as the thread shows it to everyone.
        node.c = Object.assign({}, node.c, { deleted: true, author: null });
        node.held = false;
        self.redraw(node);
      } else {
        node.item.remove();
        self.nodes.delete(node.c.id);
      }
      self.countHeading();
      self.say(self.t.deletedOwn);
    });
  };

  /* ---- Messages -------------------------------------------------------- */

  Thread.prototype.say = function (message, problem) {
    this.status.textContent = message;
    this.status.classList.toggle('mo-problem', !!problem);
  };

  Thread.prototype.wait = function (seconds) {
    var t = this.t;
    if (seconds === null || seconds === undefined) return t.minutes(1);
    return seconds < 90 ? t.seconds(seconds) : t.minutes(Math.ceil(seconds / 60));
  };

  Thread.prototype.messageFor = function (answer) {
    var t = this.t;
    var error = errorOf(answer);
    switch (error.code) {
      case 'rate_limited': return t.rateLimited(this.wait(answer.retryAfter));
      case 'duplicate': return t.duplicate;
      case 'comments_closed': return t.closed;
      case 'banned': return this.lang === 'en' && error.message ? capital(error.message) + '.' : t.banned;
      case 'sign_in_required': return t.signInRequired;
      case 'edit_window_closed': return t.editWindow;
      case 'not_author': return t.notAuthor;
      case 'invalid_credentials': return t.invalidCredentials;
      case 'registration_closed': return t.registrationClosed;
      case 'invalid_session': case 'not_signed_in': return t.sessionEnded;
      case 'network': return t.network;
      case 'failed': case 'internal': case 'unavailable': return t.failed;
      default: return error.message ? capital(error.message) : t.failed;
    }
  };

  function capital(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

  // An error answer shown where it belongs: beside its field when it names
  // one of the form's, else in the form's status line (or the thread's).
  Thread.prototype.showError = function (answer, form, byField) {
    var error = errorOf(answer);
    var message = this.messageFor(answer);
    var input = error.field && byField[error.field];
    if (input) {
      fieldError(input, this.lang === 'en' ? message : this.t.fixFields);
      input.focus();
      return;
    }
    var status = form && form.querySelector('.mo-form-status');
    if (status) status.textContent = message;
    this.say(message, true);
  };

  /* ---- Start ------------------------------------------------------------ */

  function start() {
    var root = document.getElementById('moderato-thread');
    if (root) {
      if (!document.querySelector('link[data-moderato]')) {
        document.head.append(h('link', { rel: 'stylesheet', href: STYLESHEET, 'data-moderato': '' }));
      }
      new Thread(root).start();
    }
    showCounts();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
