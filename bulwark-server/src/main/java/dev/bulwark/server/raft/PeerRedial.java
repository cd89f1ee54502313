package dev.bulwark.server.raft;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.grpc.server.GrpcServerProtocolClient;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServerRpcWithProxy;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;

/**
 * Replaces a leader's client for one follower, so that its next call dials the follower afresh
 * ({@link SilentPeerRedials}), and then fails every call still on the old one at once.
 *
 * <p>Why this way: Ratis' own reset ({@code PeerProxyMap.resetProxy}) closes the old client
 * gracefully, letting its calls run on for up to 3 s; a log appender stuck on a connection that
 * takes no bytes stays stuck for those 3 s, since only a failed call or its own stop frees it.
 * Failing the calls ({@code shutdownNow} on the old client's channels) frees it now, and doing
 * so only once the new client is in the map means the appender, resetting on the failure,
 * fetches the new one: Ratis' map hands out a closed client while it swaps them. The channels
 * are private fields of Ratis 3.2.0's client, read here by name; Bulwark pins that version,
 * {@link #check()} runs when a replica starts, and {@code SilentPeerRedialTest} fails if the
 * fields move.
 */
final class PeerRedial {
  private static final List<VarHandle> CHANNELS = channelFields();

  /** How long {@link #redial} waits for Ratis' map to hold the new client before it fails the old one's calls anyway. */
  static final long SWAP_WAIT_MS = 1_000;

  private PeerRedial() {}

  /** Fails now, rather than at the first redial, if Ratis' client no longer has the fields this reads. */
  static void check() {
    if (CHANNELS.size() != 2) {
      throw new IllegalStateException("expected Ratis' two channel fields, found " + CHANNELS.size());
    }
  }

  /**
   * Replaces {@code rpc}'s client for {@code peer} and then fails every call on the old one.
   * Blocks up to about {@link #SWAP_WAIT_MS}; call it off the hot path.
   */
  static void redial(RaftServerRpcWithProxy<?, ?> rpc, RaftPeerId peer) throws IOException, InterruptedException {
    if (!(rpc.getProxies().getProxy(peer) instanceof GrpcServerProtocolClient old)) {
      rpc.getProxies().resetProxy(peer);
      return;
    }
    // Ratis' reset swaps in a new client at once, then closes the old one, waiting for its calls.
    Thread closing = Thread.ofVirtual().name("bulwark-redial-close-" + peer).start(() -> rpc.getProxies().resetProxy(peer));
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(SWAP_WAIT_MS);
    while (System.nanoTime() < deadline && closing.isAlive() && isOldOrSwapping(current(rpc, peer), old)) {
      Thread.sleep(1);
    }
    for (ManagedChannel channel : channelsOf(old)) {
      channel.shutdownNow();
    }
  }

  private static boolean isOldOrSwapping(Object current, Object old) {
    return current == null || current == old;
  }

  /** The client {@code rpc} now hands out for {@code peer}, or null in the moment it swaps them. */
  private static Object current(RaftServerRpcWithProxy<?, ?> rpc, RaftPeerId peer) {
    try {
      return rpc.getProxies().getProxy(peer);
    } catch (IOException swapping) {
      return null;
    }
  }

  /** The channels {@code client} holds: one, or two with Ratis' separate heartbeat channel. */
  static List<ManagedChannel> channelsOf(GrpcServerProtocolClient client) {
    List<ManagedChannel> channels = new ArrayList<>(2);
    for (VarHandle field : CHANNELS) {
      if (field.get(client) instanceof ManagedChannel channel) {
        channels.add(channel);
      }
    }
    return channels;
  }

  private static List<VarHandle> channelFields() {
    try {
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(GrpcServerProtocolClient.class, MethodHandles.lookup());
      return List.of(lookup.findVarHandle(GrpcServerProtocolClient.class, "channel", ManagedChannel.class),
          lookup.findVarHandle(GrpcServerProtocolClient.class, "hbChannel", ManagedChannel.class));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Ratis' GrpcServerProtocolClient no longer has the channel fields Bulwark"
          + " fails calls on (is Ratis still 3.2.0?)", e);
    }
  }
}
