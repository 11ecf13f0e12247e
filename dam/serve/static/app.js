'use strict';
/* dam web UI: plain ES2020, no dependencies. Data reaches the DOM only via textContent/attributes. */

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(['done', 'failed', 'interrupted']);
const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp|tiff?|heic|heif|avif|dng)$/i;
const AUDIO_EXT = /\.(wav|mp3|flac|aac|m4a|ogg|oga|opus|aiff?)$/i;
const LIMIT = '24';

const state = {
  jobs: new Map(), streams: new Map(), openErrors: new Set(), // jobs/streams keyed by job id
  seq: 0, assetSeq: 0, tick: 0, debounce: 0, mode: 'recent', lastImage: null, queryUrl: null, lastFocus: null, renderQueued: false,
};


/* ---------- DOM helpers ---------- */
function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'text') n.textContent = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) n.append(c instanceof Node ? c : String(c));
  return n;
}
const cls = (s) => String(s ?? '').toLowerCase().replace(/[^a-z0-9_-]/g, '');
const baseName = (p) => String(p || '').split(/[\\/]/).filter(Boolean).pop() || '';
const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
const pad = (n) => String(n).padStart(2, '0');

/* ---------- Formatting ---------- */
function tc(sec) {
  if (sec == null || !Number.isFinite(+sec)) return '–';
  const cs = Math.round(+sec * 100), c = cs % 100, s = Math.floor(cs / 100) % 60, m = Math.floor(cs / 6000);
  return m >= 60 ? `${Math.floor(m / 60)}:${pad(m % 60)}:${pad(s)}.${pad(c)}` : `${m}:${pad(s)}.${pad(c)}`;
}
const range = (a, b) => (a == null ? '' : b == null || +b === +a ? tc(a) : `${tc(a)}–${tc(b)}`);
function bytes(n) {
  if (n == null || !Number.isFinite(+n)) return null;
  const u = ['B', 'KB', 'MB', 'GB', 'TB']; let i = 0; n = +n;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}
function fmt(v) { // metadata value -> display text, or null to hide the row
  if (v == null || v === '') return null;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v !== 'object') return String(v);
  const parts = Array.isArray(v) ? v.map(fmt) : Object.entries(v).map(([k, x]) => `${k}: ${x && typeof x === 'object' ? JSON.stringify(x) : x}`);
  return parts.length ? parts.join(', ') : null;
}
const score = (s) => (s == null || !Number.isFinite(+s) ? '' : Number(s).toFixed(3));

/* ---------- API ---------- */
// With a token set, every call (and every <video>, <img>, EventSource) carries the HttpOnly session
// cookie POST /login set; the page never holds the token itself.
async function api(path, { method = 'GET', json, body } = {}) {
  const headers = {};
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  const res = await fetch(path, { method, headers, body }).catch((e) => { showError('Cannot reach the server', e.message); throw e; });
  if (res.status === 401) { promptToken(); throw new Error('unauthorized'); }
  const data = (res.headers.get('content-type') || '').includes('json') ? await res.json().catch(() => null) : null;
  if (res.ok) return data;
  // Server errors are {"error", "detail"}; tolerate FastAPI's bare {"detail"} too.
  const msg = data?.error || (typeof data?.detail === 'string' ? data.detail : `${res.status} ${res.statusText}`);
  showError(msg, data?.detail === msg ? null : data?.detail);
  throw new Error(msg);
}

/* ---------- Errors & auth ---------- */
function showError(msg, detail) {
  const banner = $('error-banner');
  const det = detail == null || detail === '' ? '' : typeof detail === 'string' ? detail : JSON.stringify(detail, null, 1);
  const key = `${msg}\n${det}`;
  const dup = [...banner.children].find((t) => t.dataset.key === key);
  if (dup) { dup.classList.remove('flash'); void dup.offsetWidth; dup.classList.add('flash'); return; }
  const toast = el('div', { class: 'toast', role: 'alert' },
    el('div', { class: 'toast-text' }, el('strong', { text: msg }), det ? el('div', { class: 'toast-detail mono', text: det }) : null),
    el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss error', text: '×', onclick: () => dismiss(toast) }));
  toast.dataset.key = key;
  banner.append(toast);
  while (banner.children.length > 4) banner.firstElementChild.remove();
  banner.hidden = false;
}
function dismiss(toast) { toast.remove(); $('error-banner').hidden = !$('error-banner').children.length; }

function promptToken() {
  if ($('auth-form').hidden) { $('auth-form').hidden = false; $('auth-token').focus(); }
}

function saveToken(e) {
  e.preventDefault();
  const token = $('auth-token').value.trim();
  $('auth-token').value = '';
  fetch('/login', { method: 'POST', headers: { Accept: 'application/json' }, body: new URLSearchParams({ token }) })
    .then((res) => {
      if (!res.ok) { showError('That is not this server\'s token'); return; }
      $('auth-form').hidden = true;
      for (const es of state.streams.values()) es.close();
      state.streams.clear(); // reopened with the new cookie by refreshJobs
      loadStats(); loadRoots(); refreshJobs(); runCurrent(); route();
    })
    .catch((err) => showError('Cannot reach the server', err.message));
}

/* ---------- Stats & roots ---------- */
async function loadStats() {
  let s; try { s = await api('/stats'); } catch { return; }
  const n = (x) => Number(x || 0).toLocaleString();
  $('stats').textContent = `${n(s.assets)} assets · ${n(s.indexed)} indexed · ${n(s.scenes)} scenes`;
  $('stats').title = `${n(s.files)} files · ${n(s.relations)} relations · encoder ${s.encoder || '–'}`;
}

async function loadRoots() {
  let d; try { d = await api('/paths'); } catch { return; }
  const roots = d?.roots || [];
  $('roots').replaceChildren(...(roots.length ? [el('span', { class: 'muted', text: 'Roots' })] : []),
    ...roots.map((r) => el('button', { type: 'button', class: 'root mono', title: `Use ${r.path}`, text: r.path,
      onclick: () => { $('ingest-path').value = r.path; $('ingest-path').focus(); } })));
}

/* ---------- Results ---------- */
function setStatus(title, busy, text) {
  $('results-title').textContent = title;
  if (busy) $('results').setAttribute('aria-busy', 'true'); else $('results').removeAttribute('aria-busy');
  $('results-status').classList.toggle('busy', busy);
  $('results-status').textContent = text;
}

// Runs one grid query; a newer query (higher seq) wins over slower older ones.
async function load(title, fetcher, render, [empty, hint]) {
  const seq = ++state.seq;
  setStatus(title, true, 'Searching…');
  let items = null;
  try { items = (await fetcher()) || []; } catch { [empty, hint] = ['Request failed', 'See the error above.']; }
  if (seq !== state.seq) return;
  setStatus(title, false, items ? plural(items.length, 'result') : '');
  $('results').replaceChildren(...(items || []).map(render));
  if (!items?.length) $('results').append(el('div', { class: 'empty', 'data-testid': 'empty' }, el('strong', { text: empty }), el('span', { text: hint })));
}

function setQueryThumb(file) {
  if (state.queryUrl) URL.revokeObjectURL(state.queryUrl);
  state.queryUrl = file ? URL.createObjectURL(file) : null;
  $('query-thumb').hidden = !file;
  if (file) $('query-thumb').src = state.queryUrl; else $('query-thumb').removeAttribute('src');
}

function typeParams(extra) {
  const p = new URLSearchParams({ ...extra, limit: LIMIT });
  if ($('type-filter').value) p.set('type', $('type-filter').value);
  return p;
}

function loadRecent() {
  state.mode = 'recent'; state.lastImage = null; setQueryThumb(null);
  const type = $('type-filter').value;
  return load('Recent', async () => {
    const list = await api(`/assets?${typeParams({})}`);
    return (Array.isArray(list) ? list : list?.assets || []).filter((a) => !type || !a.kind || a.kind === type);
  }, assetCard, ['No assets yet', 'Ingest a folder or drop files to get started.']);
}

function searchText(q) {
  state.mode = 'text'; state.lastImage = null; setQueryThumb(null);
  let notice = null; // the words name nothing the picture model knows: say so next to the count
  const seq = state.seq + 1;
  return load(`Results for “${q}”`, async () => {
    const r = await api(`/search?${typeParams({ q })}`);
    notice = r?.notice;
    return r?.hits;
  }, hitCard, ['No matches', 'Try different words or another media type.']).then(() => {
    if (notice && seq === state.seq) $('results-status').textContent += ` · ${notice}`;
  });
}

function searchImage(file) {
  state.mode = 'image'; state.lastImage = file; setQueryThumb(file);
  return load(`Similar to ${file.name || 'image'}`, async () => {
    const fd = new FormData();
    fd.append('file', file, file.name || 'image');
    return (await api(`/search/image?${typeParams({})}`, { method: 'POST', body: fd }))?.hits;
  }, hitCard, ['No matches', 'Nothing in the library looks like this image.']);
}

function runCurrent() {
  clearTimeout(state.debounce);
  const q = $('search-input').value.trim();
  if (state.mode === 'image' && state.lastImage) return searchImage(state.lastImage);
  return q ? searchText(q) : loadRecent();
}

function thumb(url, label) {
  const ph = () => el('div', { class: 'ph', text: label || 'No preview' });
  if (!url) return ph();
  const img = el('img', { src: url, alt: '', loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.replaceWith(ph()), { once: true });
  return img;
}

const assetHref = (id) => `#/asset/${encodeURIComponent(id)}`;

function hitCard(hit) {
  const name = baseName(hit.path) || hit.asset_id;
  const when = range(hit.start, hit.end);
  const box = el('div', { class: 'thumb' }, thumb(hit.thumbnail), when ? el('span', { class: 'tc-overlay mono', text: when }) : null);
  const card = el('article', {
    class: 'card hit', tabindex: '0', 'data-testid': 'result-card', 'data-asset-id': hit.asset_id,
    'aria-label': `Play ${name}${when ? ` ${when}` : ''}`,
  }, box, el('div', { class: 'card-body' },
    el('div', { class: 'card-title', title: hit.path || name, text: name }),
    el('div', { class: 'card-meta' },
      el('span', { class: `badge lvl-${cls(hit.level)}`, text: hit.level || '–' }),
      when ? el('span', { class: 'mono', text: when }) : null,
      el('span', { class: 'mono score', title: 'Similarity score', text: score(hit.score) }),
      hit.moments > 1 ? el('span', { class: 'more', text: `+${hit.moments - 1} more` }) : null),
    hit.why ? el('p', { class: 'why', title: [hit.why, ...(hit.also_in || [])].join('\n'), text: hit.why }) : null,
    el('a', { class: 'open-link', href: assetHref(hit.asset_id), 'data-testid': 'open-asset', text: 'Open asset' })));
  const play = (e) => { if (!e.target.closest('a, video, audio')) playInPlace(box, hit, name); };
  card.addEventListener('click', play);
  card.addEventListener('keydown', (e) => { if ((e.key === 'Enter' || e.key === ' ') && e.target === card) { e.preventDefault(); play(e); } });
  return card;
}

function playInPlace(box, hit, name) {
  if (box.classList.contains('playing')) return;
  const src = `/assets/${encodeURIComponent(hit.asset_id)}/media`;
  let node;
  if (IMAGE_EXT.test(hit.path || '')) node = el('img', { class: 'full', src, alt: name });
  else {
    const frag = hit.start == null ? '' : `#t=${hit.start}${hit.end == null ? '' : `,${hit.end}`}`;
    node = el(AUDIO_EXT.test(hit.path || '') ? 'audio' : 'video',
      { src: src + frag, autoplay: true, muted: true, controls: true, playsinline: true, 'data-testid': 'inline-player' });
    node.muted = true;
    node.play().catch(() => { /* autoplay may be blocked; controls remain */ });
  }
  box.classList.add('playing');
  box.replaceChildren(node);
}

function assetCard(a) {
  const name = a.name || baseName(a.path) || a.id;
  const card = el('article', { class: 'card', tabindex: '0', 'data-testid': 'result-card', 'data-asset-id': a.id, 'aria-label': `Open ${name}` },
    el('div', { class: 'thumb' }, thumb(a.poster, a.kind)),
    el('div', { class: 'card-body' },
      el('div', { class: 'card-title', title: a.path || name, text: name }),
      el('div', { class: 'card-meta' },
        a.kind ? el('span', { class: 'badge', text: a.kind }) : null,
        a.status ? el('span', { class: `status st-${cls(a.status)}`, text: a.status }) : null),
      el('a', { class: 'open-link', href: assetHref(a.id), 'data-testid': 'open-asset', text: 'Open asset' })));
  const open = (e) => { if (!e.target.closest('a')) location.hash = assetHref(a.id); };
  card.addEventListener('click', open);
  card.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === card) open(e); });
  return card;
}

/* ---------- Ingest & upload ---------- */
const note = (t) => { $('ingest-note').textContent = t; };

function queued(data, label) {
  const n = data?.assets?.length || 0, errs = data?.errors || [];
  note(`${label}: queued ${plural(n, 'file')}${errs.length ? `, ${errs.length} skipped` : ''}.`);
  if (errs.length) {
    const lines = errs.slice(0, 6).map((x) => `${x.path}: ${x.reason}`);
    if (errs.length > 6) lines.push(`…and ${errs.length - 6} more`);
    showError(`${plural(errs.length, 'file')} not ingested`, lines.join('\n'));
  }
  if (data?.job) watchJob(data.job);
  refreshJobs(); loadStats();
}

async function ingest(e) {
  e.preventDefault();
  const input = $('ingest-path'), path = input.value.trim();
  if (!path) { input.focus(); return; }
  $('ingest-button').disabled = true; note(`Scanning ${path}…`);
  try { queued(await api('/ingest', { method: 'POST', json: { paths: [path] } }), baseName(path) || path); } catch { note(''); }
  $('ingest-button').disabled = false;
}

async function upload(files) {
  const fd = new FormData();
  for (const f of files) fd.append('files', f, f.name);
  note(`Uploading ${plural(files.length, 'file')} (${bytes(files.reduce((s, f) => s + f.size, 0))})…`);
  try { queued(await api('/upload', { method: 'POST', body: fd }), `Uploaded ${plural(files.length, 'file')}`); } catch { note('Upload failed.'); }
}

const isImage = (f) => (f.type ? f.type.startsWith('image/') : IMAGE_EXT.test(f.name));

function dropZone(node, onFiles, accept = () => true) {
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  node.addEventListener('dragover', (e) => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; node.classList.add('over'); } });
  node.addEventListener('dragleave', (e) => { if (!node.contains(e.relatedTarget)) node.classList.remove('over'); });
  node.addEventListener('drop', (e) => {
    e.preventDefault(); e.stopPropagation(); node.classList.remove('over');
    const all = [...(e.dataTransfer?.files || [])], files = all.filter(accept);
    if (files.length) onFiles(files);
    else if (all.length) showError('Unsupported file', 'Drop a still image (JPEG, PNG, WebP…) to search by image.');
  });
}

function pickerZone(zone, input, onFiles) {
  zone.addEventListener('click', (e) => { if (e.target !== input) input.click(); });
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  input.addEventListener('change', () => { const f = [...input.files]; input.value = ''; if (f.length) onFiles(f); });
}

/* ---------- Jobs ---------- */
async function refreshJobs() {
  let list; try { list = await api('/jobs'); } catch { return; }
  for (const j of Array.isArray(list) ? list : list?.jobs || []) updateJob(j);
}

function updateJob(job) {
  if (!job?.id) return;
  const prev = state.jobs.get(job.id);
  state.jobs.set(job.id, job);
  if (!TERMINAL.has(job.status)) watchJob(job.id);
  else if (prev && !TERMINAL.has(prev.status)) jobFinished(job);
  if (!state.renderQueued) { state.renderQueued = true; requestAnimationFrame(renderJobs); }
}

function jobFinished(job) {
  loadStats();
  if (job.status === 'failed') showError(`${job.kind || 'Job'} failed`, job.detail?.error || `${job.failed || 0} of ${job.total || 0} files failed`);
  if (state.mode === 'recent' && !$('results').querySelector('.playing')) loadRecent();
}

function watchJob(id) {
  if (state.streams.has(id) || typeof EventSource === 'undefined') return;
  const es = new EventSource(`/jobs/${encodeURIComponent(id)}/events`);
  state.streams.set(id, es);
  const stop = () => { es.close(); if (state.streams.get(id) === es) state.streams.delete(id); };
  const onData = (ev) => {
    let job; try { job = JSON.parse(ev.data); } catch { return; }
    updateJob(job); if (TERMINAL.has(job.status)) stop();
  };
  es.addEventListener('message', onData);
  es.addEventListener('job', onData);
  es.onerror = stop; // stream ended or broke; the 5 s poll reopens it if the job is still live
}

function renderJobs() {
  state.renderQueued = false;
  const key = (j) => j.created_at ?? '';
  const jobs = [...state.jobs.values()].sort((a, b) => (key(b) > key(a)) - (key(b) < key(a))).slice(0, 30);
  $('jobs').replaceChildren(...(jobs.length ? jobs.map(jobItem) : [el('li', { class: 'muted empty-inline', text: 'No jobs yet.' })]));
}

function jobItem(j) {
  const total = j.total || 0, done = j.done || 0, failed = j.failed || 0, live = !TERMINAL.has(j.status);
  const pct = live ? (total ? Math.min(100, (done / total) * 100) : 0) : 100;
  const fill = el('div', { class: 'bar-fill' });
  fill.style.width = `${pct}%`;
  const errs = j.errors || [];
  let list = null;
  if (errs.length) {
    list = el('details', { class: 'job-errors', open: state.openErrors.has(j.id) },
      el('summary', { text: plural(errs.length, 'error') }),
      el('ul', {}, errs.map((x) => el('li', {},
        el('span', { class: 'mono err-path', text: x.path || '–' }), `: ${x.reason || 'unknown error'}`,
        x.stage ? el('span', { class: 'muted', text: ` (${x.stage})` }) : null))));
    list.addEventListener('toggle', () => { state.openErrors[list.open ? 'add' : 'delete'](j.id); });
  }
  const stage = live ? j.detail?.stage : null;
  return el('li', { class: `job st-${cls(j.status)}`, 'data-testid': 'job', 'data-status': j.status, 'data-job-id': j.id },
    el('div', { class: 'job-head' },
      el('span', { class: 'job-kind', text: j.kind || 'job' }),
      el('span', { class: `pill st-${cls(j.status)}`, text: j.status }),
      el('span', { class: 'job-id mono', title: j.id, text: String(j.id).slice(0, 8) })),
    el('div', { class: `bar${live && !total ? ' indeterminate' : ''}`, role: 'progressbar', 'aria-label': `${j.kind || 'job'} progress`,
      'aria-valuemin': 0, 'aria-valuemax': total || 1, 'aria-valuenow': live ? done : total || 1 }, fill),
    el('div', { class: 'job-counts' },
      el('span', { class: 'mono', text: `${done}/${total}` }),
      failed ? el('span', { class: 'err-text', text: `${failed} failed` }) : null,
      stage ? el('span', { class: 'job-stage', text: stage }) : null),
    list);
}

/* ---------- Asset view ---------- */
function route() {
  const m = /^#\/asset\/(.+)$/.exec(location.hash);
  if (m) openAsset(decodeURIComponent(m[1])); else closeAsset();
}

function stopPlayer() {
  const m = $('asset-player').querySelector('video, audio');
  if (m) { m.pause(); m.removeAttribute('src'); m.load(); }
  $('asset-player').replaceChildren();
}

function setModal(open) {
  $('asset-backdrop').hidden = !open;
  document.body.classList.toggle('modal-open', open);
  for (const n of document.querySelectorAll('.topbar, .layout')) n.inert = open;
}

async function openAsset(id) {
  const seq = ++state.assetSeq;
  if ($('asset-backdrop').hidden) state.lastFocus = document.activeElement;
  setModal(true); stopPlayer();
  $('asset-title').textContent = 'Loading…';
  for (const k of ['asset-path', 'asset-meta', 'scene-strip', 'asset-relations', 'asset-description', 'asset-labels',
    'shot-labels']) $(k).replaceChildren();
  $('asset-view').focus();
  const a = await api(`/assets/${encodeURIComponent(id)}`).catch(() => null);
  if (seq !== state.assetSeq || $('asset-backdrop').hidden) return;
  if (a) renderAsset(a); else $('asset-title').textContent = 'Asset unavailable';
  if (a) renderLabels(a, await api(`/assets/${encodeURIComponent(id)}/tags`).catch(() => null), seq);
}

/** A label is a button that searches for it: the same words find the moments that show it. */
function labelChip(lb) {
  const seen = (lb.seen || []).map(([s, e]) => range(s, e)).join(', ');
  return el('button', {
    type: 'button', class: `label-chip ${lb.facet === 'subject' ? 'subject' : ''}`, 'data-testid': 'label',
    title: `${lb.facet} · ${lb.source} · ${Math.round(lb.confidence * 100)}%${seen ? ` · seen ${seen}` : ''} — search for it`,
    onclick: () => { closeAsset(); $('search-input').value = lb.name; searchText(lb.name); },
  }, lb.name, seen ? el('span', { class: 'label-when mono muted', text: ` · ${seen}` }) : null);
}

/** What the picture model saw, for the asset and for each shot with its time ("cat · Egyptian cat — 0:00–0:03"). */
function renderLabels(a, tags, seq) {
  if (!tags || seq !== state.assetSeq) return;
  const seen = (labels) => (labels || []).filter((lb) => lb.source === 'vision' || lb.facet === 'tag');
  $('asset-description').textContent = tags.description || '';
  $('asset-labels').replaceChildren(...seen(tags.labels).map(labelChip));
  const scenes = a.scenes || [];
  $('shot-labels').replaceChildren(...Object.entries(tags.scenes || {}).map(([i, labels]) => [scenes[+i], seen(labels)])
    .filter(([s, labels]) => s && labels.length)
    .map(([s, labels]) => el('li', { 'data-testid': 'shot-label-row' },
      el('span', { class: 'mono muted', text: `#${s.index} ${range(s.start, s.end)}` }), ...labels.map(labelChip))));
}

function closeAsset() {
  if ($('asset-backdrop').hidden) return;
  state.assetSeq++; stopPlayer(); setModal(false);
  if (state.lastFocus?.isConnected) state.lastFocus.focus();
}

function renderAsset(a) {
  $('asset-title').textContent = a.name || baseName(a.path) || a.id;
  $('asset-path').textContent = a.path || '';
  const src = `/assets/${encodeURIComponent(a.id)}/media`;
  const player = a.kind === 'image'
    ? el('img', { src, alt: a.name || '' })
    : el(a.kind === 'audio' ? 'audio' : 'video', {
      src, controls: true, preload: 'metadata', playsinline: true, poster: a.poster || null, 'data-testid': 'asset-player',
    });
  $('asset-player').replaceChildren(player);

  const i = a.info || {}, v = i.video || {};
  const rows = [
    ['Kind', a.kind], ['Status', a.status], ['Size', bytes(a.size)], ['Container', i.container],
    ['Duration', i.duration != null ? tc(i.duration) : null], ['Video codec', v.codec],
    ['Resolution', v.width && v.height ? `${v.width}×${v.height}` : null],
    ['Frame rate', v.fps != null ? `${+Number(v.fps).toFixed(3)} fps` : null], ['Pixel format', v.pix_fmt],
    ['Bit depth', v.bit_depth], ['HDR', v.hdr], ['Rotation', v.rotation != null ? `${v.rotation}°` : null],
    ...[].concat(i.audio || []).map((t, n) => [`Audio ${n + 1}`, [t.codec, t.channels != null && `${t.channels} ch`,
      t.sample_rate && `${t.sample_rate / 1000} kHz`].filter(Boolean).join(' · ')]),
    ['Created', i.creation_time], ['Make', i.make], ['Model', i.model], ['Timecode', i.timecode],
    ['Levels', a.levels], ['Encoder', a.encoder],
    ['Motion', a.motion ? (a.motion.intervals.map((m) => range(m.start, m.end) + (m.kind === 'camera' ? ' (camera)' : ''))
      .join(', ') || 'none') : null],
    ['Error', a.error],
  ];
  $('asset-meta').replaceChildren(el('tbody', {}, rows.map(([k, val]) => [k, fmt(val)]).filter(([, val]) => val)
    .map(([k, val]) => el('tr', { class: k === 'Error' ? 'err' : null }, el('th', { scope: 'row', text: k }), el('td', { text: val })))));

  const scenes = a.scenes || [], strip = $('scene-strip');
  strip.replaceChildren(...scenes.map((s) => el('button', {
    type: 'button', class: 'scene', 'data-testid': 'scene', 'data-start': s.start, 'data-end': s.end,
    title: `Scene ${s.index} · ${range(s.start, s.end)}${s.transition ? ` · ${s.transition}` : ''}`,
    onclick: () => seek(player, s.start),
  }, thumb(s.thumbnail, `#${s.index}`), el('span', { class: 'scene-tc mono', text: tc(s.start) }))));
  if (!scenes.length) strip.append(el('div', { class: 'muted empty-inline', text: 'No scenes.' }));
  player.addEventListener('timeupdate', () => {
    const t = player.currentTime;
    for (const b of strip.children) b.classList.toggle('active', t >= +b.dataset.start && t < +b.dataset.end);
  });

  const rels = a.relations || [];
  $('asset-relations').replaceChildren(...(rels.length ? rels.map((r) => el('li', {},
    el('span', { class: 'badge', text: r.kind || 'related' }),
    el('a', { href: assetHref(r.other_id), class: 'mono rel-link', title: r.other_id, text: r.other_id }),
    el('span', { class: 'mono muted', text: syncText(r) + score(r.score) }))) : [el('li', { class: 'muted', text: 'None' })]));
}

/** A multicam link says where the other clip starts on this one's timeline, and its drift. */
function syncText(r) {
  const d = r.detail || {};
  if (r.kind !== 'multicam' || d.other_starts_at == null) return '';
  const off = `${d.other_starts_at >= 0 ? '+' : '−'}${Math.abs(d.other_starts_at).toFixed(3)} s`;
  const drift = d.drift_ppm == null ? '' : ` · drift ${(+d.drift_ppm).toFixed(1)} ppm`;
  return `starts ${off}${drift} · conf `;
}

function seek(player, t) {
  if (!('currentTime' in player) || t == null) return;
  const go = () => { player.currentTime = +t; player.play().catch(() => {}); };
  if (player.readyState >= 1) go(); else player.addEventListener('loadedmetadata', go, { once: true });
}

/* ---------- Wiring ---------- */
function init() {
  const input = $('search-input');
  $('search-form').addEventListener('submit', (e) => { e.preventDefault(); state.lastImage = null; state.mode = 'text'; runCurrent(); });
  input.addEventListener('input', () => {
    clearTimeout(state.debounce);
    state.lastImage = null;
    const q = input.value.trim();
    if (q.length >= 2) state.debounce = setTimeout(() => searchText(q), 300);
    else if (!q) state.debounce = setTimeout(loadRecent, 300);
  });
  $('type-filter').addEventListener('change', runCurrent);
  $('ingest-form').addEventListener('submit', ingest);
  $('auth-form').addEventListener('submit', saveToken);

  dropZone($('upload-drop'), upload);
  dropZone($('image-drop'), (f) => searchImage(f[0]), isImage);
  dropZone($('search-form'), (f) => searchImage(f[0]), isImage);
  pickerZone($('upload-drop'), $('upload-input'), upload);
  pickerZone($('image-drop'), $('image-input'), (f) => searchImage(f[0]));
  // Stray drops must not navigate away from the app.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  $('asset-close').addEventListener('click', () => { location.hash = '#/'; });
  $('asset-backdrop').addEventListener('click', (e) => { if (e.target === e.currentTarget) location.hash = '#/'; });
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('asset-backdrop').hidden) { location.hash = '#/'; return; }
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '');
    if (e.key === '/' && !typing && $('asset-backdrop').hidden) { e.preventDefault(); input.focus(); input.select(); }
  });

  renderJobs();
  loadStats(); loadRoots(); refreshJobs(); loadRecent(); route();
  setInterval(() => {
    if (document.hidden || !$('auth-form').hidden) return;
    refreshJobs();
    if (++state.tick % 3 === 0) loadStats();
  }, 5000);
}

init();
