package dev.bulwark.server.raft;

import java.lang.reflect.Field;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.AwaitForSignal;

/**
 * Puts a {@link LatchedSignal} in the place of the signal Ratis' state machine updater (the
 * thread that applies committed entries) waits on, so that a commit it is told of between its
 * check and its wait is not lost. Log appenders get theirs from Bulwark's appender
 * ({@link BoundedStopGrpc}).
 *
 * <p>The updater and its signal are private to Ratis 3.2.0 ({@code RaftServerImpl.state},
 * {@code ServerState.stateMachineUpdater}, {@code StateMachineUpdater.awaitForSignal}), read
 * and written here by name; Bulwark pins that version and {@code RatisSignalsTest} fails if
 * they move. Swapping is safe while the updater runs: a wait already begun on Ratis' signal ends
 * within its 100 ms time-out, and the updater then checks for committed entries again.
 */
final class RatisSignals {
  private RatisSignals() {}

  /** Gives {@code division}'s state machine updater a {@link LatchedSignal}; returns the one it replaced. */
  static AwaitForSignal latchUpdater(RaftServer.Division division) {
    try {
      Object updater = updater(division);
      Field signal = field(updater.getClass(), "awaitForSignal");
      AwaitForSignal old = (AwaitForSignal) signal.get(updater);
      if (!(old instanceof LatchedSignal)) {
        signal.set(updater, new LatchedSignal(old.toString()));
      }
      return old;
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalStateException("Ratis' state machine updater no longer has the signal Bulwark replaces"
          + " (is Ratis still 3.2.0?)", e);
    }
  }

  /** The signal {@code division}'s state machine updater now waits on. */
  static AwaitForSignal updaterSignal(RaftServer.Division division) throws ReflectiveOperationException {
    Object updater = updater(division);
    return (AwaitForSignal) field(updater.getClass(), "awaitForSignal").get(updater);
  }

  /** {@code division}'s state machine updater: {@code RaftServerImpl.state.stateMachineUpdater.get()}. */
  private static Object updater(RaftServer.Division division) throws ReflectiveOperationException {
    Object memoized = read(read(division, "state"), "stateMachineUpdater");
    return memoized.getClass().getMethod("get").invoke(memoized);
  }

  private static Object read(Object owner, String name) throws ReflectiveOperationException {
    Object value = field(owner.getClass(), name).get(owner);
    if (value == null) {
      throw new NoSuchFieldException(owner.getClass().getName() + "." + name + " is null");
    }
    return value;
  }

  private static Field field(Class<?> type, String name) throws NoSuchFieldException {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      try {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f;
      } catch (NoSuchFieldException next) {
        // look in the superclass
      }
    }
    throw new NoSuchFieldException(type.getName() + "." + name);
  }
}
