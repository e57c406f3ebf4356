// What the conformance fixtures that log while they run share (tools/conformance/: test_tool_with_logging,
// test_logging_tool, test_tool_with_progress): spacing their lines in time. A tool has no timers,
// so it waits by reading the host clock.

import { log, nowMs } from "./host";

/** Busy-waits `ms` milliseconds on the host clock. */
export function pause(ms: u64): void {
  const until = nowMs() + ms;
  while (nowMs() < until) {}
}

/** The three info lines, 50 ms apart, that the logging fixtures write; returns their MCP result. */
export function logThreeLines(): string {
  log("info", "Tool execution started");
  pause(50);
  log("info", "Tool processing data");
  pause(50);
  log("info", "Tool execution completed");
  return `{"content":[{"type":"text","text":"Logging test completed"}]}`;
}
