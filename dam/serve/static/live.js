'use strict';
// Live camera previews: WebRTC (POST /cameras/{id}/webrtc with the offer, host candidates only),
// falling back to the MJPEG stream when RTCPeerConnection is missing or does not connect; and the
// events WebSocket (/events/ws: jobs, camera state, motion). The session cookie set by /login
// carries the token for every request and for the WebSocket.
const $ = (id) => document.getElementById(id);
const live = { pc: null, ws: null, mode: null, lastClock: null };
window.damLive = live; // for tests and the curious: the connection and what it measured

function status(text) { $('live-status').textContent = text; }

function logEvent(msg) {
  const list = $('live-events');
  const item = document.createElement('li');
  item.dataset.type = msg.type;
  if (msg.type === 'job') { item.dataset.jobId = msg.job.id; item.textContent = `job ${msg.job.id} ${msg.job.status}`; }
  else if (msg.type === 'camera') { item.textContent = `camera ${msg.camera.id} ${msg.camera.state}`; }
  else if (msg.type === 'motion') { item.textContent = `motion ${msg.camera} ${msg.moving ? 'started' : 'stopped'}`; }
  else { item.textContent = msg.type; }
  list.prepend(item);
  while (list.children.length > 200) list.lastChild.remove();
}

function events() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/events/ws`);
  live.ws = ws;
  ws.onmessage = (e) => logEvent(JSON.parse(e.data));
  ws.onclose = () => setTimeout(events, 2000); // the server restarted or the network blinked
}

function stop() {
  if (live.pc) { live.pc.close(); live.pc = null; }
  const video = $('live-video'); video.srcObject = null; video.hidden = true;
  const img = $('live-mjpeg'); img.removeAttribute('src'); img.hidden = true;
}

function mjpeg(cam, overlay) {
  stop();
  live.mode = 'mjpeg';
  const img = $('live-mjpeg');
  img.src = `/cameras/${encodeURIComponent(cam)}/mjpeg?overlay=${overlay}&fps=30`;
  img.hidden = false;
  document.body.dataset.mode = 'mjpeg';
  status(`${cam}: MJPEG`);
}

async function webrtc(cam, overlay) {
  stop();
  const pc = new RTCPeerConnection({ iceServers: [] }); // host candidates only: no STUN
  live.pc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  const clock = pc.createDataChannel('dam-clock');
  clock.onmessage = (e) => { live.lastClock = JSON.parse(e.data); }; // {pts, t: capture time, seq}
  const video = $('live-video');
  pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => { // host candidates gather at once; don't wait on a slow interface
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
    setTimeout(done, 1000);
  });
  const res = await fetch(`/cameras/${encodeURIComponent(cam)}/webrtc`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sdp: pc.localDescription.sdp, type: 'offer', overlay }),
  });
  if (!res.ok) throw new Error(`the server refused the offer: ${res.status}`);
  await pc.setRemoteDescription(await res.json());
  await new Promise((ok, fail) => {
    const check = () => {
      if (pc.connectionState === 'connected') ok();
      else if (['failed', 'closed'].includes(pc.connectionState)) fail(new Error(`WebRTC ${pc.connectionState}`));
    };
    pc.addEventListener('connectionstatechange', check);
    setTimeout(() => fail(new Error('WebRTC did not connect in 10 s')), 10000);
    check();
  });
  video.hidden = false;
  live.mode = 'webrtc';
  document.body.dataset.mode = 'webrtc';
  status(`${cam}: WebRTC`);
}

async function start() {
  const cam = $('camera').value;
  const overlay = $('overlay').value;
  if (!cam) { status('no camera'); return; }
  if ($('transport').value === 'mjpeg' || typeof RTCPeerConnection === 'undefined') return mjpeg(cam, overlay);
  try {
    await webrtc(cam, overlay);
  } catch (e) {
    console.warn('WebRTC failed, falling back to MJPEG:', e.message);
    mjpeg(cam, overlay);
  }
}

async function init() {
  const res = await fetch('/cameras');
  if (res.status === 401) { location.href = '/login'; return; }
  const cams = await res.json();
  const select = $('camera');
  for (const c of cams) select.append(new Option(`${c.name || c.id} (${c.state})`, c.id));
  const wanted = new URLSearchParams(location.search);
  if (wanted.get('camera')) select.value = wanted.get('camera');
  if (wanted.get('overlay')) $('overlay').value = wanted.get('overlay');
  if (wanted.get('transport')) $('transport').value = wanted.get('transport');
  for (const id of ['camera', 'overlay', 'transport']) $(id).addEventListener('change', start);
  events();
  // Leaving the page ends the session now: otherwise the server keeps encoding for a viewer that
  // is gone until ICE consent fails (about 30 s), on a replica that serves everyone else too.
  window.addEventListener('pagehide', stop);
  await start();
}

init();
