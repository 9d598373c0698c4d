// Benchmark peer: a Socket.IO 4 server on the Redis adapter, so that several instances share
// rooms. It does the least a chat server must do: join a room, broadcast a message to the room
// (the sender included) and acknowledge the send. Nothing is stored, nothing is checked.
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node server.js
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const port = Number(process.env.PORT || 3001);
const host = process.env.HOST || '127.0.0.1';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  pub.on('error', (e) => console.error('redis pub', e.message));
  sub.on('error', (e) => console.error('redis sub', e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer((req, res) => {
    if (req.url === '/health') { res.writeHead(200); res.end('ok'); return; }
    res.writeHead(404); res.end();
  });
  const io = new Server(server, {
    transports: ['websocket'],
    adapter: createAdapter(pub, sub, { key: process.env.CHANNEL_PREFIX || 'peer' }),
    maxHttpBufferSize: 16 * 1024,
  });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(String(room));
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('msg', (msg, ack) => {
      if (!msg || typeof msg.room !== 'string') return;
      io.to(msg.room).emit('msg', msg);
      if (typeof ack === 'function') ack({ ok: true });
    });
  });
  server.listen(port, host, () => console.log(`peer listening on ${host}:${port}`));
  const stop = () => { io.close(); pub.quit().catch(() => {}); sub.quit().catch(() => {}); setTimeout(() => process.exit(0), 500).unref(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
main().catch((e) => { console.error(e); process.exit(1); });
