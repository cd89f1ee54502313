package dev.bulwark.server.raft;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.conf.Parameters;

/**
 * The followers a leader's log appenders are sending a snapshot to right now, from the moment an
 * appender chooses to send one until it next finds none needed, or stops.
 *
 * <p>Why: an appender sending a snapshot sends its follower nothing else, so the follower's last
 * answer is as old as its last chunk's, which under load can be seconds; the silent-peer redial
 * ({@link SilentPeerRedials}) must not take that for a stuck connection, since a redial would
 * start the send over. The appenders, built by Ratis, and the replica's watch share this
 * through Ratis' {@link Parameters}.
 */
final class SnapshotSends {
  private static final String KEY = SnapshotSends.class.getName();

  private final Set<String> followers = ConcurrentHashMap.newKeySet();

  /** The set in {@code parameters}, put there first if it is not yet. */
  static SnapshotSends in(Parameters parameters) {
    synchronized (parameters) {
      SnapshotSends found = parameters.get(KEY, SnapshotSends.class);
      if (found == null) {
        found = new SnapshotSends();
        parameters.put(KEY, found, SnapshotSends.class);
      }
      return found;
    }
  }

  void set(String follower, boolean sending) {
    if (sending) {
      followers.add(follower);
    } else {
      followers.remove(follower);
    }
  }

  boolean contains(String follower) {
    return followers.contains(follower);
  }
}
