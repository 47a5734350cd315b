// lmn debug: the page. Hand-written, no libraries; served by the tool itself, so it works offline.
'use strict';
const RULES = ['ANNI', 'COMM', 'ERAS', 'VOID', 'CALL', 'OPER', 'SWIT', 'LINK'];
const $ = (id) => document.getElementById(id);
let state = null;
let view = { x: 10, y: 10, k: 1 };
let userMoved = false; // the picture is fitted after every redraw until the user zooms or pans
let selected = null;
let busy = false;

function esc(s) {
  return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

function fmtBytes(b) {
  if (b >= 1 << 20) return (b / (1 << 20)).toFixed(1) + ' MiB';
  if (b >= 1024) return (b / 1024).toFixed(1) + ' KiB';
  return b + ' B';
}

// Commands run one after another: a key pressed while the last one is drawing waits its turn (never dropped).
let queue = Promise.resolve();
function call(method, path, body) {
  queue = queue.then(() => run(method, path, body));
  return queue;
}

async function run(method, path, body) {
  busy = true;
  document.body.classList.add('busy');
  const t0 = performance.now();
  try {
    const opts = { method };
    if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers = { 'Content-Type': 'application/json' }; }
    const res = await fetch(path, opts);
    if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
    render(await res.json());
    // The whole round trip: the command, the layout, the transfer and the page's redraw.
    await new Promise((r) => requestAnimationFrame(r));
    $('rtt').textContent = Math.round(performance.now() - t0) + ' ms';
  } catch (e) {
    $('status').textContent = 'error: ' + e.message;
  } finally {
    busy = false;
    document.body.classList.remove('busy');
  }
}

function applyView() {
  $('canvas').style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.k})`;
}

function fit() {
  const svg = $('canvas').querySelector('svg');
  if (!svg) return;
  const vp = $('viewport').getBoundingClientRect();
  const r = svg.getBoundingClientRect();
  const w = (r.width / view.k) || 1, h = (r.height / view.k) || 1;
  view.k = Math.min(2, Math.max(0.05, Math.min((vp.width - 20) / w, (vp.height - 40) / h)));
  view.x = Math.max(10, (vp.width - w * view.k) / 2);
  view.y = 10;
  applyView();
}

function zoom(factor, cx, cy) {
  userMoved = true;
  const vp = $('viewport').getBoundingClientRect();
  if (cx === undefined) { cx = vp.width / 2; cy = vp.height / 2; }
  const k = Math.min(8, Math.max(0.02, view.k * factor));
  view.x = cx - (cx - view.x) * (k / view.k);
  view.y = cy - (cy - view.y) * (k / view.k);
  view.k = k;
  applyView();
}

function render(s) {
  state = s;
  $('file').textContent = s.file;
  $('canvas').innerHTML = s.svg;
  if (!userMoved) fit(); else applyView();
  for (const g of $('canvas').querySelectorAll('g.node')) {
    g.addEventListener('click', (ev) => { ev.stopPropagation(); inspect(g.id); });
  }
  if (selected !== null) inspect(selected, true);
  $('steps').textContent = s.steps.toLocaleString('en');
  $('itrs').textContent = s.interactions.toLocaleString('en');
  $('nodes').textContent = s.live_nodes.toLocaleString('en') + ' (' + s.picture.drawn_nodes + ' drawn)';
  $('memory').textContent = fmtBytes(s.bytes_in_use) + ' in use, ' + fmtBytes(s.peak_bytes) + ' touched';
  $('pending').textContent = s.pending_redexes.toLocaleString('en');
  $('drawms').textContent = s.draw_ms + ' ms';
  $('rules').tHead.rows[0].innerHTML = RULES.map((r) => `<th>${r}</th>`).join('');
  $('rules').tBodies[0].rows[0].innerHTML = RULES.map((r) => `<td id="rule-${r}">${s.rules[r]}</td>`).join('');
  $('result').textContent = s.finished ? s.result : (s.paused ? 'paused for the oracle' : 'running');
  $('oracle').textContent = 'oracle: ' + s.oracle;
  $('readback').textContent = s.readback;
  renderSource(s);
  $('redexes').innerHTML = s.redexes.map((r) => `<li><b>${r.rule}</b> ${esc(r.a)} ~ ${esc(r.b)}</li>`).join('') || '<li>none</li>';
  $('laststep').textContent = s.last_step ? `last: ${s.last_step.rule} ${s.last_step.a} ~ ${s.last_step.b} (+${s.last_step.links} links)` : '';
  $('transcript').textContent = s.transcript || '(no answer yet)';
  renderSites(s);
  let st = s.finished ? 'finished' : s.paused ? `paused: ${s.sites.filter((x) => x.state === 'ready').length} site(s) ready` : `${s.pending_redexes} redexes pending`;
  if (s.fault) st = 'error: ' + s.fault;
  $('status').textContent = st + (s.message ? ' · ' + s.message : '');
  $('status').dataset.finished = s.finished;
  $('back').disabled = $('backN').disabled = s.steps === 0;
  // An oracle is answering: poll until it has.
  if (s.sites.some((x) => x.state === 'asked')) setTimeout(poll, 300);
}

const byId = (a, b) => (Number(a.id.replace('amb#', '') || 1e9) - Number(b.id.replace('amb#', '') || 1e9)) || a.index - b.index;

function poll() {
  if (busy) setTimeout(poll, 300);
  else call('GET', '/api/state');
}

function currentSite(s) {
  return s.sites.filter((x) => x.state === 'ready' || x.state === 'asked').sort(byId)[0]
    || [...s.sites].reverse().find((x) => x.state === 'parked')
    || [...s.sites].reverse().find((x) => x.state === 'answered');
}

function renderSource(s) {
  const src = s.source || '';
  const cur = currentSite(s);
  let html;
  const inFile = cur && cur.location && cur.location.startsWith(s.file) && cur.offset >= 0 && cur.offset < src.length;
  if (inFile) {
    const end = Math.min(src.length, cur.offset + Math.max(1, cur.length));
    html = esc(src.slice(0, cur.offset)) + '<mark id="cursite">' + esc(src.slice(cur.offset, end)) + '</mark>' + esc(src.slice(end));
  } else html = esc(src);
  const lines = html.split('\n');
  $('source').innerHTML = lines.map((l, i) => `<span class="ln">${String(i + 1).padStart(3)} </span>${l}`).join('\n');
  const m = $('cursite');
  if (m) m.scrollIntoView({ block: 'nearest' });
}

function renderSites(s) {
  if (s.sites.length === 0) { $('sites').innerHTML = '<div class="meta">no site reached yet</div>'; return; }
  $('sites').innerHTML = [...s.sites].sort(byId).map((x) => {
    const meta = [];
    if (x.answer !== undefined) meta.push('answer <b class="mono">' + esc(x.answer) + '</b>');
    if (x.oracle) meta.push('oracle ' + esc(x.oracle));
    if (x.confidence !== undefined) meta.push('confidence ' + x.confidence);
    if (x.tokens !== undefined) meta.push('tokens ' + x.tokens);
    if (x.time_ms !== undefined) meta.push('time ' + x.time_ms + ' ms');
    const ready = x.state === 'ready';
    return `<div class="site" data-site="${x.index}" data-state="${x.state}">
      <span class="state ${x.state}">${x.state}</span> <b>${esc(x.id)}</b> <span class="mono">${esc(x.expression)}</span>
      <span class="meta">${esc(x.location)}</span>
      <div class="meta">${meta.join(' · ')}</div>
      ${x.error ? `<div class="error">${esc(x.error)}</div>` : ''}
      ${ready ? `<div><input class="answer" placeholder="an answer, e.g. a candidate" aria-label="answer for site ${x.index}">
        <button class="answer-btn">answer</button> <button class="ask-btn">ask ${esc(s.oracle)}</button></div>` : ''}
      ${x.request ? `<details><summary>oracle request (JSON)</summary><pre class="request">${esc(x.request)}</pre></details>` : ''}
    </div>`;
  }).join('');
  for (const div of $('sites').querySelectorAll('.site')) {
    const i = Number(div.dataset.site);
    const input = div.querySelector('input.answer');
    const send = () => call('POST', '/api/answer', { site: i, text: input.value });
    div.querySelector('.answer-btn')?.addEventListener('click', send);
    input?.addEventListener('keydown', (e) => { if (e.key === 'Enter') send(); e.stopPropagation(); });
    div.querySelector('.ask-btn')?.addEventListener('click', () => call('POST', '/api/ask?site=' + i));
  }
}

function inspect(id, quiet) {
  for (const g of $('canvas').querySelectorAll('g.node.selected')) g.classList.remove('selected');
  const n = state && state.picture.nodes[Number(String(id).replace(/^n/, ''))];
  const box = $('inspector');
  if (!n) { box.hidden = true; selected = null; return; }
  selected = 'n' + n.id;
  const g = document.getElementById(selected);
  if (g) g.classList.add('selected'); else if (quiet) { box.hidden = true; selected = null; return; }
  const wires = state.picture.wires.filter((w) => w.from === n.id || w.to === n.id).map((w) => {
    const mine = w.from === n.id ? w.from_port : w.to_port;
    const other = state.picture.nodes[w.from === n.id ? w.to : w.from];
    const otherPort = w.from === n.id ? w.to_port : w.from_port;
    const name = (p) => (p === 0 ? 'principal' : 'aux ' + p);
    return `<li>${name(mine)} → ${esc(other.kind)} ${other.address ?? ''} (${name(otherPort)})${w.active ? ' <b>active ' + w.rule + '</b>' : ''}</li>`;
  });
  box.innerHTML = `<h2>${esc(n.kind)} ${n.address !== undefined ? '@' + n.address : ''} <button id="closeinsp" style="float:right">×</button></h2>
    <div class="mono">${esc(n.label)}</div>
    ${n.words ? `<div class="mono">ports: ${esc(n.words)}</div>` : ''}
    ${n.question ? `<div>site ${esc(n.question)} at ${esc(n.location)} (${esc(n.state)})</div>` : ''}
    ${n.hidden ? `<div>${n.hidden.toLocaleString('en')} nodes summarised</div>` : ''}
    <ul class="mono">${wires.join('')}</ul>`;
  box.hidden = false;
  $('closeinsp').onclick = () => inspect(null);
}

function stepN() { return Math.max(1, Number($('nsteps').value) || 1); }

$('step').onclick = () => call('POST', '/api/step?n=1');
$('stepN').onclick = () => call('POST', '/api/step?n=' + stepN());
$('pause').onclick = () => call('POST', '/api/pause');
$('end').onclick = () => call('POST', '/api/end');
$('back').onclick = () => call('POST', '/api/back?n=1');
$('backN').onclick = () => call('POST', '/api/back?n=' + stepN());
$('fit').onclick = () => { userMoved = false; fit(); };

document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  if (k === 's' || k === 'ArrowRight') $('step').click();
  else if (k === 'n') $('stepN').click();
  else if (k === 'p') $('pause').click();
  else if (k === 'e') $('end').click();
  else if (k === 'b' || k === 'ArrowLeft') $('back').click();
  else if (k === 'B') $('backN').click();
  else if (k === '0') { userMoved = false; fit(); }
  else if (k === '+' || k === '=') zoom(1.25);
  else if (k === '-') zoom(0.8);
  else return;
  e.preventDefault();
});

const vp = $('viewport');
let drag = null;
vp.addEventListener('mousedown', (e) => { drag = { x: e.clientX - view.x, y: e.clientY - view.y, moved: false }; vp.classList.add('dragging'); });
window.addEventListener('mousemove', (e) => {
  if (!drag) return;
  view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; drag.moved = true; userMoved = true; applyView();
});
window.addEventListener('mouseup', () => { drag = null; vp.classList.remove('dragging'); });
vp.addEventListener('wheel', (e) => {
  e.preventDefault();
  const r = vp.getBoundingClientRect();
  zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
}, { passive: false });
vp.addEventListener('click', () => inspect(null));

call('GET', '/api/state');
