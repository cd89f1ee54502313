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
 * Drops a replica's connections to one peer at once, failing every call on them, and leaves a
 * fresh client in their place that dials the peer on its next call ({@link SilentPeerReconnects}).
 *
 * <p>Why this way: Ratis' own reset ({@code PeerProxyMap.resetProxy}) closes the old client
 * gracefully, letting its calls run on for up to 3 s; a log appender stuck on a connection that
 * takes no bytes stays stuck for those 3 s, since only a failed call or its own stop frees it.
 * Failing the calls at once ({@code shutdownNow} on the client's channels) frees it now. The
 * channels are private fields of Ratis 3.2.0's client, read here by name; Bulwark pins that
 * version, and {@code SilentPeerRedialTest} fails if the fields move.
 */
final class PeerRedial {
  private static final List<VarHandle> CHANNELS = channelFields();

  private PeerRedial() {}

  /**
   * Fails every call from {@code rpc} to {@code peer} and has the next call dial it afresh.
   * Blocks up to a few seconds while Ratis closes the old client; call it off the hot path.
   */
  static void redial(RaftServerRpcWithProxy<?, ?> rpc, RaftPeerId peer) throws IOException {
    if (rpc.getProxies().getProxy(peer) instanceof GrpcServerProtocolClient client) {
      for (ManagedChannel channel : channelsOf(client)) {
        channel.shutdownNow();
      }
    }
    rpc.getProxies().resetProxy(peer);
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
