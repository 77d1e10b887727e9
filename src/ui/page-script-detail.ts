/**
 * The detail view's part of the page script (see page-script.ts, which splices it into its one
 * function): the task's fields and timeline, refreshed while it is active, and its cancel and retry
 * buttons. It calls the helpers page-script.ts declares before it.
 */
export const DETAIL_SCRIPT = String.raw`
  function startDetail() {
    var article = document.querySelector('#sh-app .sh-task');
    var task = cfg.task;
    var lastStatus = task.status;
    function render() {
      updateCommon(article, task);
      var values = fmt.detailFields(task);
      var nodes = article.querySelectorAll('[data-field]');
      for (var j = 0; j < nodes.length; j++) {
        var name = nodes[j].getAttribute('data-field');
        if (Object.prototype.hasOwnProperty.call(values, name)) setText(nodes[j], values[name]);
      }
      if (task.status !== lastStatus) announce([task.label + ': ' + badgeOf(task)]);
      lastStatus = task.status;
      renderTimeline();
    }
    // The timeline is rebuilt from the task as the server formats it (see timelineOf).
    function renderTimeline() {
      var list = document.getElementById('sh-timeline');
      if (!list) return;
      var entries = fmt.timelineOf(task);
      var items = [];
      for (var e = 0; e < entries.length; e++) {
        var li = make('li');
        var time = make('time', '', fmt.formatTimestamp(entries[e].at));
        time.setAttribute('datetime', entries[e].at);
        li.appendChild(time);
        li.appendChild(document.createTextNode(' '));
        li.appendChild(make('span', '', entries[e].text));
        if (entries[e].task) {
          li.appendChild(document.createTextNode(' '));
          var link = make('a', '', entries[e].task);
          link.href = cfg.base + '/' + encodeURIComponent(entries[e].task) + '/';
          li.appendChild(link);
        }
        items.push(li);
      }
      if (list.children.length === items.length && list.textContent === items.map(function (i) { return i.textContent; }).join('')) return;
      list.textContent = '';
      for (e = 0; e < items.length; e++) list.appendChild(items[e]);
    }
    // A finished task never changes again: no idle polling here.
    var poller = createPoller(cfg.taskUrl, function (body) { task = body; render(); }, function () {
      return isActive(task);
    }, 0);
    article.addEventListener('click', function (event) {
      var target = event.target;
      var retry = target && target.closest ? target.closest('.sh-retry') : null;
      if (retry) {
        retryTask(task, retry).then(function (body) {
          if (body) window.location.assign(cfg.base + '/' + encodeURIComponent(body.id) + '/');
        });
        return;
      }
      var button = target && target.closest ? target.closest('.sh-cancel') : null;
      if (!button || cancelling[task.id]) return;
      cancelTask(task.id, cfg.taskUrl + 'cancel/', render, poller);
    });
    setInterval(function () {
      setText(article.querySelector('.sh-meta'), metaText(task));
      poller.tick();
    }, 1000);
    poller.start();
  }
`;
