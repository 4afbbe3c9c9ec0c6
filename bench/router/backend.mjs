// The benchmark's dyno: a minimal Node HTTP server answering a small fixed body.
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const body = Buffer.from('hello from the dyno\n');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
