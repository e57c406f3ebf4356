// Floor (b)'s far end: a plain module worker that posts every message straight back on the port
// the page hands it (whose other end the service worker holds).
self.onmessage = (event) => {
  const [port] = event.ports;
  if (port) port.onmessage = (message) => port.postMessage(message.data);
};
