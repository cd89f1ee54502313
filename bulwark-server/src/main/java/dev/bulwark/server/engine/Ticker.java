package dev.bulwark.server.engine;

/**
 * A monotonic nanosecond clock, {@link System#nanoTime} in production. Injected so that a
 * simulator can run the sequencer on simulated time (batch deadlines, pipeline timings).
 */
@FunctionalInterface
public interface Ticker {
  Ticker SYSTEM = System::nanoTime;

  long nanos();
}
