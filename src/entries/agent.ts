// A demo agent page: it connects with the client library like any agent would. It does not
// host tool workers: calls run in an open app window (or fail with `no-sandbox-host`).
import '../ui/demo-agent';
