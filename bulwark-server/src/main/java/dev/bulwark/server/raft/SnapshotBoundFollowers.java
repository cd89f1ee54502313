package dev.bulwark.server.raft;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.conf.Parameters;

/**
 * The followers a leader's log appenders send a snapshot to because the entry before the ones
 * each needs is purged ({@link BoundedStopGrpc#previousLostAtLogStart}).
 *
 * <p>Why: such a follower's commit index is exactly one below the start of the leader's log,
 * and stays there for the whole send, which for a store of hundreds of MB takes longer than the
 * stalled-follower watch waits. The watch leaves followers behind the log's start alone (Ratis
 * sends those a snapshot), but this one it would take for stalled and hand leadership away in
 * the middle of the send, to a new leader whose log most likely starts at the same index. The
 * appenders, built by Ratis, and the replica's watch share this through Ratis' {@link Parameters}.
 */
final class SnapshotBoundFollowers {
  private static final String KEY = SnapshotBoundFollowers.class.getName();

  private final Set<String> followers = ConcurrentHashMap.newKeySet();

  /** The set in {@code parameters}, put there first if it is not yet. */
  static SnapshotBoundFollowers in(Parameters parameters) {
    synchronized (parameters) {
      SnapshotBoundFollowers found = parameters.get(KEY, SnapshotBoundFollowers.class);
      if (found == null) {
        found = new SnapshotBoundFollowers();
        parameters.put(KEY, found, SnapshotBoundFollowers.class);
      }
      return found;
    }
  }

  void add(String follower) {
    followers.add(follower);
  }

  void remove(String follower) {
    followers.remove(follower);
  }

  boolean contains(String follower) {
    return followers.contains(follower);
  }
}
