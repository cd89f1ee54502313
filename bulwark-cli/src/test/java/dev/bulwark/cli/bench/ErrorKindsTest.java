package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.ReceiptRejectedException;
import dev.bulwark.client.RequestTimeoutException;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ErrorKindsTest {
  @Test
  void everyOutcomeButAnAppliedConfirmationIsAnErrorOfItsKind() {
    assertThat(ErrorKinds.of(new Outcome.Confirmed(new ResultEnvelope.Applied(Bytes.utf8("r")), null))).isEmpty();
    assertThat(ErrorKinds.of(new Outcome.Confirmed(new ResultEnvelope.Refused("INSUFFICIENT_FUNDS", "no"), null)))
        .contains("refused:INSUFFICIENT_FUNDS");
    assertThat(ErrorKinds.of(new Outcome.Rejected("BAD_NONCE", "no"))).contains("rejected:BAD_NONCE");
    assertThat(ErrorKinds.of(new Outcome.Busy("full"))).contains("busy");
    assertThat(ErrorKinds.of(new Outcome.NotLeader(Optional.of("r2")))).contains("not-leader");
    assertThat(ErrorKinds.of(new Outcome.NotCommitted("x"))).contains("not-committed");
    assertThat(ErrorKinds.of(new Outcome.Unknown("x"))).contains("unknown");
  }

  @Test
  void failuresNameTheLastAnswerSeen() {
    assertThat(ErrorKinds.of(new RequestTimeoutException("late", null))).isEqualTo("timeout");
    assertThat(ErrorKinds.of(new RequestTimeoutException("late", new Outcome.Busy("full")))).isEqualTo("timeout:busy");
    assertThat(ErrorKinds.of(new ReceiptRejectedException("forged"))).isEqualTo("receipt-rejected");
    assertThat(ErrorKinds.of(new IllegalStateException("bug"))).isEqualTo("failed:IllegalStateException");
  }

  @Test
  void onlyErrorsThatLeaveTheNonceInDoubtAskForItAgain() {
    assertThat(ErrorKinds.losesNonce("rejected:BAD_NONCE")).isTrue();
    assertThat(ErrorKinds.losesNonce("refused:BAD_NONCE")).isTrue();
    assertThat(ErrorKinds.losesNonce("timeout:unknown")).isTrue();
    assertThat(ErrorKinds.losesNonce("receipt-rejected")).isTrue();
    assertThat(ErrorKinds.losesNonce("refused:INSUFFICIENT_FUNDS")).isFalse();
    assertThat(ErrorKinds.losesNonce("rejected:BAD_SIGNATURE")).isFalse();
  }
}
