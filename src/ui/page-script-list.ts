/**
 * The list page's part of the page script (see page-script.ts, which splices it into its one
 * function): the workers strip and the live list, with its run bar, cancel and retry buttons,
 * counts and polling. It calls the helpers page-script.ts declares before it.
 */
export const LIST_SCRIPT = String.raw`
  // The workers strip: refreshed from fleet/ every few seconds, its freshness text every second.
  function startFleet() {
    var box = document.getElementById('sh-fleet');
    var list = document.getElementById('sh-fleet-list');
    var alertBox = document.getElementById('sh-fleet-alert');
    if (!cfg.fleetUrl || !box || !list) return;
    var fleet = cfg.fleet;
    function render() {
      var shown = fmt.formatFleet(fleet, now());
      var items = list.children;
      if (items.length !== shown.lines.length) {
        while (list.firstChild) list.removeChild(list.firstChild);
        for (var i = 0; i < shown.lines.length; i++) list.appendChild(make('li', null, shown.lines[i]));
      } else {
        for (var j = 0; j < shown.lines.length; j++) setText(items[j], shown.lines[j]);
      }
      setText(alertBox, shown.alert);
      setHidden(alertBox, shown.alert === '');
      setHidden(box, shown.lines.length === 0 && shown.alert === '');
    }
    function refresh() {
      if (document.hidden) return;
      fetch(cfg.fleetUrl, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (body) { if (body) { fleet = body; render(); } }, function () { /* the next refresh tries again */ });
    }
    setInterval(render, 1000);
    setInterval(refresh, Math.max(cfg.pollIntervalMs || 0, 5000));
  }

  function startList() {
    startFleet();
    var list = document.getElementById('sh-tasks');
    var empty = document.getElementById('sh-empty');
    var runButton = document.getElementById('sh-run');
    var tasks = cfg.tasks || [];
    var rows = Object.create(null);
    var known = Object.create(null);
    var optimistic = Object.create(null);
    var i;
    for (i = 0; i < list.children.length; i++) {
      var child = list.children[i];
      rows[child.getAttribute('data-id')] = child;
    }
    for (i = 0; i < tasks.length; i++) known[tasks[i].id] = tasks[i].status;

    function buildRow(t) {
      var li = make('li', 'sh-task');
      li.setAttribute('data-id', t.id);
      var row = make('div', 'sh-row');
      var ind = make('span', 'sh-ind');
      ind.setAttribute('aria-hidden', 'true');
      ind.appendChild(make('span', 'sh-ring'));
      ind.appendChild(make('span', 'sh-ring sh-ring--late'));
      ind.appendChild(make('span', 'sh-dot'));
      row.appendChild(ind);
      var link = make('a', 'sh-name');
      link.href = cfg.base + '/' + encodeURIComponent(t.id) + '/';
      row.appendChild(link);
      row.appendChild(make('span', 'sh-badge'));
      row.appendChild(make('span', 'sh-meta'));
      if (cfg.canCancel || cfg.canRetry) {
        var actions = make('span', 'sh-actions');
        if (cfg.canCancel) actions.appendChild(make('button', 'sh-cancel', 'Cancel'));
        if (cfg.canRetry) {
          var retryButton = make('button', 'sh-retry', 'Retry');
          retryButton.setAttribute('aria-label', 'Retry ' + t.label);
          retryButton.hidden = true;
          actions.appendChild(retryButton);
        }
        for (var b = 0; b < actions.children.length; b++) actions.children[b].type = 'button';
        row.appendChild(actions);
      }
      li.appendChild(row);
      var who = make('p', 'sh-who');
      who.hidden = true;
      li.appendChild(who);
      var bar = make('progress', 'sh-progress');
      bar.max = 100;
      bar.hidden = true;
      li.appendChild(bar);
      var message = make('p', 'sh-message');
      message.hidden = true;
      li.appendChild(message);
      var worker = make('p', 'sh-worker');
      worker.hidden = true;
      li.appendChild(worker);
      var result = make('p', 'sh-result');
      result.hidden = true;
      li.appendChild(result);
      return li;
    }
    function updateRow(li, t) {
      updateCommon(li, t);
      setText(li.querySelector('.sh-name'), t.label);
      var who = li.querySelector('.sh-who');
      var whoText = fmt.formatWho(t);
      setText(who, whoText);
      setHidden(who, whoText === '');
      var message = li.querySelector('.sh-message');
      var text = isActive(t) ? (t.message || '') : '';
      setText(message, text);
      setHidden(message, text === '');
      showWorker(li, t);
      var result = li.querySelector('.sh-result');
      var outcome = outcomeText(t);
      setText(result, outcome);
      setHidden(result, outcome === '');
    }
    function render() {
      var shown = [];
      var seen = Object.create(null);
      var messages = [];
      var id;
      // A task just started may be missing from a poll answer that was already on its way.
      for (id in optimistic) {
        if (!tasks.some(function (t) { return t.id === id; })) shown.push(optimistic[id]);
        else delete optimistic[id];
      }
      shown = shown.concat(tasks);
      var cursor = list.firstElementChild;
      for (var k = 0; k < shown.length; k++) {
        var t = shown[k];
        seen[t.id] = true;
        var li = rows[t.id];
        if (!li) { li = buildRow(t); rows[t.id] = li; }
        updateRow(li, t);
        if (li === cursor) cursor = cursor.nextElementSibling;
        else list.insertBefore(li, cursor);
        if (known[t.id] && known[t.id] !== t.status) messages.push(t.label + ': ' + badgeOf(t));
        known[t.id] = t.status;
      }
      while (cursor) {
        var next = cursor.nextElementSibling;
        id = cursor.getAttribute('data-id');
        if (!seen[id]) { delete rows[id]; list.removeChild(cursor); }
        cursor = next;
      }
      setHidden(empty, shown.length > 0);
      announce(messages);
    }
    var counts = cfg.counts;
    // A filtered or older page is busy too while tasks run that it does not show: the counts say
    // so, and one may end into this filter at any moment. (On the first page of every task, the
    // unfinished ones are the newest: its own rows tell.)
    function busy() {
      if (Object.keys(optimistic).length) return true;
      if (!cfg.showStarted && counts && (counts.RUNNING > 0 || counts.PENDING > 0)) return true;
      return tasks.some(isActive);
    }
    function showCounts(counts) {
      if (!counts) return;
      var badges = document.querySelectorAll('[data-count]');
      for (var c = 0; c < badges.length; c++) {
        var value = counts[badges[c].getAttribute('data-count')];
        if (typeof value === 'number') setText(badges[c], String(value));
      }
    }
    var poller = createPoller(cfg.statusUrl, function (body) {
      tasks = body.tasks || [];
      render();
      if (body.counts) counts = body.counts;
      showCounts(body.counts);
    }, busy, cfg.idlePollIntervalMs || 0);

    list.addEventListener('click', function (event) {
      var target = event.target;
      var button = target && target.closest ? target.closest('.sh-cancel, .sh-retry') : null;
      if (!button) return;
      var li = button.closest('.sh-task');
      var id = li && li.getAttribute('data-id');
      if (!id) return;
      if (button.className === 'sh-retry') {
        var task = tasks.filter(function (t) { return t.id === id; })[0];
        if (task) retryTask(task, button).then(function (body) { if (body) poller.kick(); });
        return;
      }
      if (cancelling[id]) return;
      cancelTask(id, cfg.base + '/' + encodeURIComponent(id) + '/cancel/', render, poller);
    });

    // The form of the chosen kind, if it has one: shown alone, its values sent as the input.
    function formOf(kind) {
      var forms = document.querySelectorAll('.sh-fields');
      for (var f = 0; f < forms.length; f++) if (forms[f].getAttribute('data-kind') === kind) return forms[f];
      return null;
    }
    function showForm(kind) {
      var forms = document.querySelectorAll('.sh-fields');
      for (var f = 0; f < forms.length; f++) setHidden(forms[f], forms[f].getAttribute('data-kind') !== kind);
    }
    function formInput(form) {
      var input = {};
      var controls = form.querySelectorAll('[data-type]');
      for (var c = 0; c < controls.length; c++) {
        var control = controls[c], type = control.getAttribute('data-type');
        if (type === 'boolean') input[control.name] = control.checked;
        else if (control.value === '') continue;
        else input[control.name] = type === 'number' ? Number(control.value) : control.value;
      }
      return input;
    }
    var kindChoice = document.getElementById('sh-kind');
    if (kindChoice) kindChoice.addEventListener('change', function () { showForm(kindChoice.value); });
    if (runButton) {
      runButton.addEventListener('click', function () {
        runButton.disabled = true;
        var kindSelect = document.getElementById('sh-kind');
        var kind = kindSelect ? kindSelect.value : (cfg.kinds && cfg.kinds[0]);
        var body = kindSelect ? { kind: kindSelect.value } : {};
        var form = kind ? formOf(kind) : null;
        if (form) body.input = formInput(form);
        post(cfg.runUrl, body).then(function (res) {
          if (res.status !== 201) return errorText(res).then(showError);
          return res.json().then(function (body) {
            showError('');
            announce(['Started ' + body.label]);
            poller.kick();
            // Elsewhere (a filter, an older page) the new task may not belong in the list.
            if (!cfg.showStarted) return;
            optimistic[body.id] = {
              id: body.id, label: body.label, status: 'PENDING', result: null, duration: null,
              created_at: new Date(now()).toISOString(), started_at: null, completed_at: null,
              progress: null, message: null
            };
            known[body.id] = 'PENDING';
            render();
          });
        }, function () {
          showError('Could not reach the server. Try again.');
        }).then(function () { runButton.disabled = false; });
      });
    }

    setInterval(function () {
      var all = tasks;
      for (var j = 0; j < all.length; j++) {
        var li = rows[all[j].id];
        if (li) {
          setText(li.querySelector('.sh-meta'), metaText(all[j]));
          showWorker(li, all[j]);
        }
      }
      poller.tick();
    }, 1000);
    poller.start();
  }
`;
