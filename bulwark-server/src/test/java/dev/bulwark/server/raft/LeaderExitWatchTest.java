package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.server.raft.LeaderExitWatch.Answer;
import dev.bulwark.server.raft.LeaderExitWatch.Following;
import dev.bulwark.server.raft.LeaderExitWatch.Verdict;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/**
 * The decisions of {@link LeaderExitWatch} on a scripted Raft server, leader port and clock:
 * an election only when the leader's port refuses connections, the leader has said nothing
 * since and a majority answers, and only by the first follower by id.
 */
class LeaderExitWatchTest {
  /** A clock whose sleeps pass at once. */
  static final class ManualTicker implements LeaderExitWatch.Ticker {
    long now = 1_000_000_000L;
    final List<Long> sleeps = new ArrayList<>();

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void sleepNanos(long nanos) {
      sleeps.add(nanos);
      now += nanos;
    }
  }

  /** A follower whose view may change with the time since the connection closed. */
  static final class ScriptedRaft implements LeaderExitWatch.Raft {
    LongFunction<Optional<Following>> view;
    final ManualTicker ticker;
    final long closedAt;
    boolean accept = true;
    final List<Following> elections = new ArrayList<>();

    ScriptedRaft(ManualTicker ticker, LongFunction<Optional<Following>> view) {
      this.ticker = ticker;
      this.closedAt = ticker.now;
      this.view = view;
    }

    @Override
    public Optional<Following> following() {
      return view.apply((ticker.now - closedAt) / 1_000_000);
    }

    @Override
    public boolean startElection(Following seen) {
      elections.add(seen);
      return accept;
    }
  }

  static final String LEADER_ADDRESS = "10.0.0.1:7101";
  static final Map<String, String> VOTERS = Map.of("r1", LEADER_ADDRESS, "r2", "10.0.0.2:7101", "r3", "10.0.0.3:7101");

  /** The leader's port answers in turn from a script (the last answer repeats); the other voters' ports answer as set. */
  static final class ScriptedProbe implements LeaderExitWatch.Probe {
    final Deque<Answer> answers;
    final List<String> asked = new ArrayList<>();
    Answer others = Answer.ACCEPTED;

    ScriptedProbe(Answer... answers) {
      this.answers = new ArrayDeque<>(List.of(answers));
    }

    @Override
    public Answer ask(String address) {
      if (!address.equals(LEADER_ADDRESS)) {
        return others;
      }
      asked.add(address);
      return answers.size() > 1 ? answers.poll() : answers.peek();
    }
  }

  static Following following(String self, long term, long lastEntryTerm, long sinceLeaderMs) {
    return new Following(self, "r1", term, lastEntryTerm, 42, sinceLeaderMs, 0, VOTERS);
  }

  /** A follower that last heard from leader r1 just before the connection closed, and not since. */
  static LongFunction<Optional<Following>> silentLeader(String self) {
    return sinceClosedMs -> Optional.of(following(self, 5, 5, sinceClosedMs + 3));
  }

  LeaderExitWatch watch(ScriptedRaft raft, ScriptedProbe probe, ManualTicker ticker) {
    return new LeaderExitWatch(raft, probe, ticker, Runnable::run);
  }

  @Test
  void aRefusedLeaderPortStartsAnElectionAtOnceWithThisFollowersLastEntry() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    ScriptedProbe probe = new ScriptedProbe(Answer.REFUSED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.ELECTION_STARTED);
    assertThat(probe.asked).containsExactly(LEADER_ADDRESS);
    assertThat(raft.elections).hasSize(1);
    assertThat(raft.elections.getFirst().lastEntryIndex()).isEqualTo(42);
    assertThat(ticker.sleeps).as("the first follower by id does not wait").isEmpty();
    assertThat(watch.electionsStarted()).isEqualTo(1);
  }

  @Test
  void aLeaderWhosePortStillTakesConnectionsIsLeftToRatisTimeout() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    ScriptedProbe probe = new ScriptedProbe(Answer.ACCEPTED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.LEADER_ANSWERS);
    assertThat(probe.asked).hasSize(LeaderExitWatch.PROBE_AFTER_MS.length);
    assertThat(raft.elections).isEmpty();
    assertThat(ticker.now - raft.closedAt).as("the last ask, and no later")
        .isEqualTo(LeaderExitWatch.PROBE_AFTER_MS[LeaderExitWatch.PROBE_AFTER_MS.length - 1] * 1_000_000);
  }

  @Test
  void aPartitionedLeaderThatDoesNotAnswerIsLeftToRatisTimeout() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    LeaderExitWatch watch = watch(raft, new ScriptedProbe(Answer.NO_ANSWER), ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.LEADER_ANSWERS);
    assertThat(raft.elections).isEmpty();
  }

  @Test
  void aPortThatClosesAfterTheConnectionsStillCounts() throws Exception {
    // A process closes its connections and its listening socket one after the other.
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    ScriptedProbe probe = new ScriptedProbe(Answer.ACCEPTED, Answer.ACCEPTED, Answer.REFUSED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.ELECTION_STARTED);
    assertThat(probe.asked).hasSize(3);
    assertThat(ticker.now - raft.closedAt).isEqualTo(LeaderExitWatch.PROBE_AFTER_MS[2] * 1_000_000);
  }

  @Test
  void aLeaderHeardAfterTheConnectionClosedRuns() throws Exception {
    // The leader's last word came 5 ms ago, whenever asked: it keeps talking.
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, sinceClosedMs -> Optional.of(following("r2", 5, 5, 5)));
    ScriptedProbe probe = new ScriptedProbe(Answer.ACCEPTED, Answer.REFUSED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.LEADER_SPOKE);
    assertThat(probe.asked).as("asked once, at the close; by the next ask the leader had spoken").hasSize(1);
    assertThat(raft.elections).isEmpty();
  }

  @Test
  void aReplicaThatFollowsNoKnownLeaderDoesNothing() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, sinceClosedMs -> Optional.empty());
    ScriptedProbe probe = new ScriptedProbe(Answer.REFUSED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.NOT_FOLLOWING);
    assertThat(probe.asked).isEmpty();
    assertThat(raft.elections).isEmpty();
  }

  @Test
  void onlyTheFirstFollowerByIdStartsTheElection() throws Exception {
    // r3 comes after r2 among the followers of r1. Two forcing at once split the vote (a chaos
    // run had one notice 300 ms after the other): r3 leaves it to r2 or to Ratis' timeout.
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r3"));
    ScriptedProbe probe = new ScriptedProbe(Answer.REFUSED);
    LeaderExitWatch watch = watch(raft, probe, ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.NOT_FIRST);
    assertThat(raft.elections).isEmpty();
    assertThat(ticker.sleeps).isEmpty();
  }

  @Test
  void aFollowerWhoseLastEntryIsFromAnOlderTermLeavesItToRatis() throws Exception {
    // Ratis refuses a start whose last entry is older than the current term; asking would only log a warning.
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, sinceClosedMs -> Optional.of(following("r2", 5, 4, sinceClosedMs + 3)));
    LeaderExitWatch watch = watch(raft, new ScriptedProbe(Answer.REFUSED), ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.LOG_BEHIND);
    assertThat(raft.elections).isEmpty();
  }

  @Test
  void anElectionRatisRefusesIsNotCounted() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    raft.accept = false;
    LeaderExitWatch watch = watch(raft, new ScriptedProbe(Answer.REFUSED), ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.ELECTION_REFUSED);
    assertThat(watch.electionsStarted()).isZero();
  }

  @Test
  void withoutAMajorityThatAnswersNoElectionIsForced() throws Exception {
    // Forced rounds skip the pre-vote: a candidate that reaches nobody would raise the term round after round.
    for (Answer other : new Answer[] {Answer.REFUSED, Answer.NO_ANSWER}) {
      ManualTicker ticker = new ManualTicker();
      ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
      ScriptedProbe probe = new ScriptedProbe(Answer.REFUSED);
      probe.others = other;
      LeaderExitWatch watch = watch(raft, probe, ticker);

      assertThat(watch.check(ticker.now)).as("the other follower: %s", other).isEqualTo(Verdict.NO_MAJORITY);
      assertThat(raft.elections).isEmpty();
    }
  }

  @Test
  void aFollowerInstallingASnapshotLeavesItToRatis() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, sinceClosedMs -> Optional.of(
        new Following("r2", "r1", 5, 5, 42, sinceClosedMs + 3, 1, VOTERS)));
    LeaderExitWatch watch = watch(raft, new ScriptedProbe(Answer.REFUSED), ticker);

    assertThat(watch.check(ticker.now)).isEqualTo(Verdict.BUSY);
    assertThat(raft.elections).isEmpty();
  }

  @Test
  void theOrderOfFollowersLeavesTheGoneLeaderOut() {
    Map<String, String> voters = Map.of("r3", "c:1", "r1", "a:1", "r2", "b:1");
    assertThat(LeaderExitWatch.rank(new Following("r2", "r1", 1, 1, 1, 0, 0, voters))).isZero();
    assertThat(LeaderExitWatch.rank(new Following("r3", "r1", 1, 1, 1, 0, 0, voters))).isEqualTo(1);
    assertThat(LeaderExitWatch.rank(new Following("r1", "r2", 1, 1, 1, 0, 0, voters))).isZero();
    assertThat(LeaderExitWatch.rank(new Following("r3", "r2", 1, 1, 1, 0, 0, voters))).isEqualTo(1);
  }

  @Test
  void closedConnectionsWhileACheckRunsStartNoSecondOne() {
    ManualTicker ticker = new ManualTicker();
    ScriptedRaft raft = new ScriptedRaft(ticker, silentLeader("r2"));
    List<Runnable> queued = new ArrayList<>();
    LeaderExitWatch watch = new LeaderExitWatch(raft, new ScriptedProbe(Answer.REFUSED), ticker, queued::add);

    watch.connectionClosed();
    watch.connectionClosed();
    assertThat(queued).hasSize(1);
    queued.getFirst().run();
    assertThat(raft.elections).as("one check covers both closings").hasSize(1);
    watch.connectionClosed();
    assertThat(queued).as("a check after the first one ended").hasSize(2);
  }

  @Test
  void aConnectionClosedDuringACheckIsCheckedWhenItEnds() {
    // The first check finds the leader answering; a connection that closes while it runs
    // (the leader dying just then) gets a check of its own, from its own closing.
    ManualTicker ticker = new ManualTicker();
    List<Runnable> queued = new ArrayList<>();
    int asks = LeaderExitWatch.PROBE_AFTER_MS.length;
    Answer[] script = new Answer[asks + 1];
    java.util.Arrays.fill(script, Answer.ACCEPTED);
    script[asks] = Answer.REFUSED; // the leader dies during the first check's last ask
    ScriptedProbe probe = new ScriptedProbe(script);
    LeaderExitWatch[] watch = new LeaderExitWatch[1];
    boolean[] closedAgain = {false};
    ScriptedRaft raft = new ScriptedRaft(ticker, sinceClosedMs -> {
      if (probe.asked.size() == asks - 1 && !closedAgain[0]) {
        closedAgain[0] = true;
        watch[0].connectionClosed();
      }
      return Optional.of(following("r2", 5, 5, 1_000));
    });
    watch[0] = new LeaderExitWatch(raft, probe, ticker, queued::add);

    watch[0].connectionClosed();
    queued.getFirst().run();
    assertThat(queued).as("no second task: the running one looks again").hasSize(1);
    assertThat(probe.asked).as("five asks answered, then one refused").hasSize(asks + 1);
    assertThat(raft.elections).hasSize(1);
  }

  @Test
  void aConnectionAttemptTellsAListeningPortFromAClosedOne() throws Exception {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    int closedPort;
    try (ServerSocket listening = new ServerSocket(0, 1, loopback)) {
      assertThat(LeaderExitWatch.connect("127.0.0.1:" + listening.getLocalPort())).isEqualTo(Answer.ACCEPTED);
      closedPort = listening.getLocalPort();
    }
    assertThat(LeaderExitWatch.connect("127.0.0.1:" + closedPort)).isEqualTo(Answer.REFUSED);
    assertThat(LeaderExitWatch.connect("no-port")).isEqualTo(Answer.NO_ANSWER);
    try (ServerSocket listening = new ServerSocket(0, 1, loopback)) {
      // "localhost" may resolve to ::1 first, where nothing listens: one address taking the connection is enough.
      assertThat(LeaderExitWatch.connect("localhost:" + listening.getLocalPort())).isEqualTo(Answer.ACCEPTED);
    }
    assertThat(LeaderExitWatch.connect("127.0.0.1:x")).isEqualTo(Answer.NO_ANSWER);
  }
}
