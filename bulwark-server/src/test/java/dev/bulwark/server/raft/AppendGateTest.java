package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Ratis follower sent two appends from the same index while the first is still being
 * written: on its own it acknowledges entries it never wrote; behind an {@link AppendGate} it
 * acknowledges only what it wrote. The follower's writes are held by its state machine (an entry
 * with state machine data is written only once the state machine's write completes), so the
 * second append always arrives while the first is pending.
 */
class AppendGateTest {
  private static final long TERM = 5;
  private static final ClientId CLIENT = ClientId.randomId();

  @TempDir
  Path dir;

  private final RaftPeer leader = RaftPeer.newBuilder().setId("leader")
      .setAddress("127.0.0.1:" + InProcessCluster.freeLoopbackPort()).build();
  private final RaftPeer follower = RaftPeer.newBuilder().setId("follower")
      .setAddress("127.0.0.1:" + InProcessCluster.freeLoopbackPort()).build();
  private final RaftGroup group = RaftGroup.valueOf(RaftGroupId.randomId(), leader, follower);
  private final HeldWrites stateMachine = new HeldWrites();
  private RaftServer server;

  /** Completes every state machine write once released, so the log worker writes nothing before. */
  static final class HeldWrites extends BaseStateMachine implements StateMachine.DataApi {
    final CompletableFuture<Void> release = new CompletableFuture<>();

    @Override
    public CompletableFuture<?> write(LogEntryProto entry) {
      return release;
    }
  }

  @AfterEach
  void close() throws IOException {
    stateMachine.release.complete(null);
    if (server != null) {
      server.close();
    }
  }

  @Test
  void onItsOwnRatisAcknowledgesAnAppendItDropped() throws Exception {
    startFollower();
    CompletableFuture<AppendEntriesReplyProto> first = sendUntilReady(server, append(1, 0, 4));
    CompletableFuture<AppendEntriesReplyProto> second = server.appendEntriesAsync(append(2, 0, 9));
    stateMachine.release.complete(null);

    assertThat(first.get(30, TimeUnit.SECONDS).getMatchIndex()).isEqualTo(4);
    AppendEntriesReplyProto answer = second.get(30, TimeUnit.SECONDS);
    // Ratis 3.2.0: SUCCESS up to 9, with only 0..4 written. If this ever fails, Ratis no longer
    // drops such appends (or acknowledges only what it wrote), and AppendGate may go.
    assertThat(answer.getResult()).isEqualTo(AppendResult.SUCCESS);
    assertThat(answer.getMatchIndex()).isEqualTo(9);
    assertThat(lastWritten()).isEqualTo(4);
  }

  @Test
  void behindTheGateTheRepeatWaitsAndItAcknowledgesOnlyWhatItWrote() throws Exception {
    startFollower();
    AppendGate gate = new AppendGate(server, Executors.newVirtualThreadPerTaskExecutor());
    CompletableFuture<AppendEntriesReplyProto> first = sendUntilReady(gate, append(1, 0, 4));
    CompletableFuture<AppendEntriesReplyProto> second = gate.appendEntriesAsync(append(2, 0, 9));
    assertThat(gate.repeatsHeld()).isEqualTo(1);
    assertThat(second).as("waits for the first to be written").isNotDone();
    stateMachine.release.complete(null);

    assertThat(first.get(30, TimeUnit.SECONDS).getMatchIndex()).isEqualTo(4);
    AppendEntriesReplyProto answer = second.get(30, TimeUnit.SECONDS);
    assertThat(answer.getResult()).isEqualTo(AppendResult.SUCCESS);
    assertThat(answer.getMatchIndex()).isEqualTo(9);
    assertThat(lastWritten()).as("what it acknowledged is written").isEqualTo(9);
  }

  @Test
  void theNextAppendGoesStraightThroughWhileTheLastIsWritten() throws Exception {
    startFollower();
    AppendGate gate = new AppendGate(server, Executors.newVirtualThreadPerTaskExecutor());
    CompletableFuture<AppendEntriesReplyProto> first = sendUntilReady(gate, append(1, 0, 4));
    CompletableFuture<AppendEntriesReplyProto> next = gate.appendEntriesAsync(append(2, 5, 9));
    assertThat(gate.repeatsHeld()).isZero();
    stateMachine.release.complete(null);

    assertThat(first.get(30, TimeUnit.SECONDS).getMatchIndex()).isEqualTo(4);
    assertThat(next.get(30, TimeUnit.SECONDS).getMatchIndex()).isEqualTo(9);
    assertThat(lastWritten()).isEqualTo(9);
  }

  @Test
  void onlyARepeatWaitsAndWhatComesAfterItWaitsBehindItInOrder() throws Exception {
    Downstream ratis = new Downstream();
    AppendGate gate = new AppendGate(ratis.server(), Runnable::run);
    CompletableFuture<AppendEntriesReplyProto> first = gate.appendEntriesAsync(append(1, 0, 4));
    CompletableFuture<AppendEntriesReplyProto> next = gate.appendEntriesAsync(append(2, 5, 9));
    assertThat(ratis.calls).as("not a repeat: straight through").containsExactly(1L, 2L);

    CompletableFuture<AppendEntriesReplyProto> repeat = gate.appendEntriesAsync(append(3, 5, 12));
    CompletableFuture<AppendEntriesReplyProto> after = gate.appendEntriesAsync(append(4, 13, 14));
    CompletableFuture<AppendEntriesReplyProto> heartbeat = gate.appendEntriesAsync(heartbeat(5));
    assertThat(ratis.calls).as("the repeat waits, the one after it too; the heartbeat does not")
        .containsExactly(1L, 2L, 5L);
    assertThat(heartbeat).isDone();
    assertThat(gate.repeatsHeld()).isEqualTo(1);

    ratis.answer(1, reply(4));
    assertThat(first.get()).isEqualTo(reply(4));
    assertThat(ratis.calls).as("the append from 5 is still being written").containsExactly(1L, 2L, 5L);
    ratis.answer(2, reply(9));
    assertThat(next.get()).isEqualTo(reply(9));
    assertThat(ratis.calls).as("handed over in the order they came").containsExactly(1L, 2L, 5L, 3L, 4L);
    ratis.answer(3, reply(12));
    ratis.answer(4, reply(14));
    assertThat(repeat.get()).isEqualTo(reply(12));
    assertThat(after.get()).isEqualTo(reply(14));
  }

  @Test
  void aRunStartInsideAnAppendCountsAsWellAsItsFirstEntry() {
    AppendEntriesRequestProto.Builder twoTerms = request(1);
    for (long i = 10; i <= 14; i++) {
      twoTerms.addEntries(LogEntryProto.newBuilder().setTerm(i < 12 ? TERM - 1 : TERM).setIndex(i));
    }
    assertThat(AppendGate.runStarts(twoTerms.build())).containsExactly(10L, 12L);
    assertThat(AppendGate.runStarts(append(2, 3, 7))).containsExactly(3L);
  }

  @Test
  void aFailedAppendFailsAloneAndFreesWhatWaitedForIt() throws Exception {
    Downstream ratis = new Downstream();
    AppendGate gate = new AppendGate(ratis.server(), Runnable::run);
    CompletableFuture<AppendEntriesReplyProto> first = gate.appendEntriesAsync(append(1, 0, 4));
    CompletableFuture<AppendEntriesReplyProto> repeat = gate.appendEntriesAsync(append(2, 0, 4));
    ratis.answers.get(1L).completeExceptionally(new IOException("log closed"));
    assertThatThrownBy(first::get).isInstanceOf(ExecutionException.class).hasRootCauseMessage("log closed");
    assertThat(ratis.calls).containsExactly(1L, 2L);

    ratis.refuseNext = new ServerNotReadyException("not yet");
    CompletableFuture<AppendEntriesReplyProto> third = gate.appendEntriesAsync(append(3, 5, 6));
    assertThatThrownBy(third::get).as("a refusal Ratis throws comes back as the answer's failure")
        .hasRootCauseInstanceOf(ServerNotReadyException.class);
    ratis.answer(2, reply(4));
    assertThat(repeat.get()).isEqualTo(reply(4));
    assertThat(gate.appendEntriesAsync(append(4, 0, 4))).as("nothing from 0 is being written: straight through")
        .isNotDone();
    assertThat(ratis.calls).containsExactly(1L, 2L, 3L, 4L);
  }

  /** A Raft server that records which appends (by call id) reached it and answers when told. */
  private final class Downstream {
    final List<Long> calls = new ArrayList<>();
    final java.util.Map<Long, CompletableFuture<AppendEntriesReplyProto>> answers = new java.util.HashMap<>();
    IOException refuseNext;

    void answer(long callId, AppendEntriesReplyProto reply) {
      answers.get(callId).complete(reply);
    }

    RaftServer server() {
      return (RaftServer) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {RaftServer.class},
          (proxy, method, args) -> {
            switch (method.getName()) {
              case "appendEntriesAsync" -> {
                AppendEntriesRequestProto request = (AppendEntriesRequestProto) args[0];
                long callId = request.getServerRequest().getCallId();
                calls.add(callId);
                if (refuseNext != null) {
                  IOException refusal = refuseNext;
                  refuseNext = null;
                  throw refusal;
                }
                CompletableFuture<AppendEntriesReplyProto> answer = request.getEntriesCount() == 0
                    ? CompletableFuture.completedFuture(reply(-1)) : new CompletableFuture<>();
                answers.put(callId, answer);
                return answer;
              }
              case "getId" -> {
                return follower.getId();
              }
              default -> throw new UnsupportedOperationException(method.getName());
            }
          });
    }
  }

  private void startFollower() throws IOException {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
    String address = follower.getAddress();
    GrpcConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
    // No election of its own while the test plays its leader.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(60, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(90, TimeUnit.SECONDS));
    server = RaftServer.newBuilder().setServerId(follower.getId()).setGroup(group).setStateMachine(stateMachine)
        .setProperties(p).build();
    server.start();
  }

  /** The first append, repeated while the follower says it is still starting (at most 10 s). */
  private static CompletableFuture<AppendEntriesReplyProto> sendUntilReady(RaftServer to, AppendEntriesRequestProto first)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        CompletableFuture<AppendEntriesReplyProto> answer = to.appendEntriesAsync(first);
        if (!answer.isCompletedExceptionally() || System.nanoTime() - deadline > 0) {
          return answer;
        }
      } catch (ServerNotReadyException e) {
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
      }
      Thread.sleep(50);
    }
  }

  /** The last index the follower wrote to its log (flushed). */
  private long lastWritten() throws IOException {
    return server.getDivision(group.getGroupId()).getRaftLog().getFlushIndex();
  }

  private AppendEntriesRequestProto append(long callId, long first, long last) {
    List<LogEntryProto> entries = LongStream.rangeClosed(first, last).mapToObj(i -> LogEntryProto.newBuilder()
        .setTerm(TERM).setIndex(i).setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
            .setClientId(CLIENT.toByteString()).setCallId(i).setLogData(ByteString.copyFromUtf8("entry " + i))
            .setStateMachineEntry(StateMachineEntryProto.newBuilder().setStateMachineData(ByteString.copyFromUtf8("data " + i))))
        .build()).toList();
    AppendEntriesRequestProto.Builder append = request(callId).addAllEntries(entries);
    if (first > 0) {
      append.setPreviousLog(TermIndexProto.newBuilder().setTerm(TERM).setIndex(first - 1));
    }
    return append.build();
  }

  private AppendEntriesRequestProto heartbeat(long callId) {
    return request(callId).build();
  }

  private AppendEntriesRequestProto.Builder request(long callId) {
    return AppendEntriesRequestProto.newBuilder()
        .setServerRequest(RaftRpcRequestProto.newBuilder().setRequestorId(leader.getId().toByteString())
            .setReplyId(follower.getId().toByteString())
            .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(group.getGroupId().toByteString())).setCallId(callId))
        .setLeaderTerm(TERM).setLeaderCommit(-1).setInitializing(false);
  }

  private static AppendEntriesReplyProto reply(long matchIndex) {
    return AppendEntriesReplyProto.newBuilder().setResult(AppendResult.SUCCESS).setMatchIndex(matchIndex).build();
  }
}
