#!/usr/bin/python3
"""Where a traced process spent its time under one method: inclusive shares from a speedscope file.

dotnet-trace's sampled thread time (`--profile dotnet-sampled-thread-time`) records every thread, waiting ones
included, and `dotnet-trace report topN` mixes them all. This keeps only the samples whose stack holds MARKER (e.g.
"RosterSync+<ApplyBatchAsync>", an async method's state machine) and that are not parked in a wait, and prints each
frame's inclusive share of that time, largest first.

Usage (docs/benchmarks.md shows a whole run):
  dotnet tool run dotnet-trace -- convert trace.nettrace --format speedscope -o trace
  /usr/bin/python3 tools/bench/profile_summary.py trace.speedscope.json MARKER [TOP (default 60)]
"""
import collections
import json
import sys

# Frames at the top of a stack that mean the thread was waiting, not working.
WAITS = ("WaitHandle", "LowLevelLifoSemaphore", "LowLevelSpinWaiter", "WaitNative", "Monitor.Wait", "Thread.Sleep")


def summarize(path, marker, top):
    trace = json.load(open(path))
    names = [frame["name"] for frame in trace["shared"]["frames"]]
    inclusive, total = collections.Counter(), 0.0
    for profile in trace["profiles"]:
        # dotnet-trace writes "evented" profiles: open (O) and close (C) events; the open stack owns the time between.
        stack, last = [], None
        for event in profile["events"]:
            if last is not None and stack and event["at"] > last:
                frames = [names[index] for index in stack]
                waiting = any(wait in frame for frame in frames[-4:] for wait in WAITS)
                if not waiting and any(marker in frame for frame in frames):
                    elapsed = event["at"] - last
                    total += elapsed
                    for frame in set(frames):
                        inclusive[frame] += elapsed
            last = event["at"]
            if event["type"] == "O":
                stack.append(event["frame"])
            else:
                while stack and stack.pop() != event["frame"]:
                    pass
    print(f"{total:,.0f} ms of working time under {marker}")
    for frame, elapsed in inclusive.most_common(top):
        print(f"{100 * elapsed / total:5.1f}%  {frame[:180]}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    summarize(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 60)
