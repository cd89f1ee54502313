package dev.bulwark.core.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.testing.MemoryView;
import dev.bulwark.core.testing.Seeded;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TransactionTest {
  private static Bytes b(String s) {
    return Bytes.utf8(s);
  }

  private static Optional<Bytes> value(String s) {
    return Optional.of(b(s));
  }

  /** The view's entries in a range, as "key=value" strings in scan order. */
  private static List<String> contents(ReadView view, KeyRange range) {
    return view.scan(range, Integer.MAX_VALUE).stream()
        .map(e -> new String(e.key().toByteArray(), StandardCharsets.UTF_8) + "="
            + new String(e.value().toByteArray(), StandardCharsets.UTF_8))
        .toList();
  }

  private static List<String> contents(ReadView view) {
    return contents(view, KeyRange.ALL);
  }

  private static MemoryView base() {
    return new MemoryView().put("a", "1").put("c", "3").put("e", "5");
  }

  // ------------------------------------------------------------ reads over writes

  @Test
  void readsItsOwnWrites() {
    MemoryView base = base();
    Transaction tx = new Transaction(base);
    assertThat(tx.get(b("a"))).isEqualTo(value("1"));
    assertThat(tx.get(b("b"))).isEmpty();
    tx.put(b("b"), b("2"));
    tx.put(b("a"), b("one"));
    assertThat(tx.get(b("b"))).isEqualTo(value("2"));
    assertThat(tx.get(b("a"))).isEqualTo(value("one"));
    tx.put(b("a"), b("uno"));
    assertThat(tx.get(b("a"))).isEqualTo(value("uno"));
    assertThat(tx.writeCount()).isEqualTo(2);
    assertThat(base.get(b("a"))).as("the base is never written").isEqualTo(value("1"));
    assertThat(base.get(b("b"))).isEmpty();
  }

  @Test
  void deletesHideBaseEntries() {
    Transaction tx = new Transaction(base());
    tx.delete(b("c"));
    assertThat(tx.get(b("c"))).isEmpty();
    assertThat(contents(tx)).containsExactly("a=1", "e=5");
    tx.put(b("c"), b("back"));
    assertThat(tx.get(b("c"))).isEqualTo(value("back"));
    tx.delete(b("zz")); // deleting an absent key is harmless
    assertThat(tx.get(b("zz"))).isEmpty();
  }

  @Test
  void scanMergesBaseAndWritesInKeyOrder() {
    MemoryView base = base();
    Transaction tx = new Transaction(base);
    tx.put(b("b"), b("2"));
    tx.put(b("c"), b("three"));
    tx.delete(b("e"));
    tx.put(b("f"), b("6"));
    tx.put(b("0"), b("zero"));
    assertThat(contents(tx)).containsExactly("0=zero", "a=1", "b=2", "c=three", "f=6");
    assertThat(contents(tx, new KeyRange(b("b"), b("f")))).containsExactly("b=2", "c=three");
    assertThat(contents(tx, new KeyRange(b("a"), b("b")))).containsExactly("a=1");
    assertThat(contents(tx, new KeyRange(b("c"), null))).containsExactly("c=three", "f=6");
    assertThat(contents(tx, new KeyRange(b("d"), b("f")))).isEmpty(); // only a deleted key in range
    assertThat(tx.scan(KeyRange.ALL, 2)).extracting(Entry::key).containsExactly(b("0"), b("a"));
    assertThat(base.openCursors()).as("scans close the base cursor").isZero();
  }

  @Test
  void scanSeesTheNewestWriteAcrossSavepoints() {
    Transaction tx = new Transaction(base());
    tx.put(b("b"), b("outer"));
    tx.delete(b("a"));
    tx.savepoint();
    tx.put(b("b"), b("inner"));
    tx.put(b("a"), b("revived"));
    tx.delete(b("c"));
    assertThat(contents(tx)).containsExactly("a=revived", "b=inner", "e=5");
  }

  // ------------------------------------------------------------ savepoints

  @Test
  void aStaleSavepointHandleCannotCloseANewerSavepointAtTheSameDepth() {
    Transaction tx = new Transaction(base());
    Transaction.Savepoint first = tx.savepoint();
    tx.rollbackTo(first);
    Transaction.Savepoint second = tx.savepoint();
    tx.put(Bytes.utf8("k"), Bytes.utf8("v"));
    assertThatThrownBy(() -> tx.rollbackTo(first)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.release(first)).isInstanceOf(IllegalStateException.class);
    assertThat(tx.get(Bytes.utf8("k"))).contains(Bytes.utf8("v"));
    tx.release(second);
    assertThat(tx.commit().size()).isEqualTo(1);
  }

  @Test
  void rollingBackTheInnerSavepointKeepsOuterWrites() {
    Transaction tx = new Transaction(base());
    tx.put(b("x"), b("0"));
    Transaction.Savepoint outer = tx.savepoint();
    tx.put(b("y"), b("1"));
    Transaction.Savepoint inner = tx.savepoint();
    assertThat(tx.openSavepoints()).isEqualTo(2);
    tx.put(b("z"), b("2"));
    tx.put(b("y"), b("overwritten"));
    tx.delete(b("a"));
    tx.rollbackTo(inner);
    assertThat(tx.openSavepoints()).isEqualTo(1);
    assertThat(contents(tx)).containsExactly("a=1", "c=3", "e=5", "x=0", "y=1");
    tx.release(outer);
    assertThat(tx.openSavepoints()).isZero();
    assertThat(tx.commit().mutations().keySet()).containsExactly(b("x"), b("y"));
  }

  @Test
  void releasingFoldsIntoTheEnclosingSavepoint() {
    Transaction tx = new Transaction(base());
    Transaction.Savepoint outer = tx.savepoint();
    tx.put(b("y"), b("1"));
    Transaction.Savepoint inner = tx.savepoint();
    tx.put(b("z"), b("2"));
    tx.delete(b("a"));
    tx.put(b("y"), b("11"));
    tx.release(inner);
    assertThat(tx.openSavepoints()).isEqualTo(1);
    assertThat(contents(tx)).containsExactly("c=3", "e=5", "y=11", "z=2");
    // The released writes now belong to the outer scope: rolling it back drops them too.
    tx.rollbackTo(outer);
    assertThat(contents(tx)).containsExactly("a=1", "c=3", "e=5");
    assertThat(tx.writeCount()).isZero();
    assertThat(tx.commit().isEmpty()).isTrue();
  }

  @Test
  void rollingBackTheOuterAfterReleasingTheInnerDiscardsBoth() {
    Transaction tx = new Transaction(base());
    tx.put(b("kept"), b("k"));
    Transaction.Savepoint outer = tx.savepoint();
    tx.put(b("o"), b("outer"));
    Transaction.Savepoint inner = tx.savepoint();
    tx.put(b("i"), b("inner"));
    tx.delete(b("kept"));
    tx.release(inner);
    tx.rollbackTo(outer);
    assertThat(tx.get(b("o"))).isEmpty();
    assertThat(tx.get(b("i"))).isEmpty();
    assertThat(tx.get(b("kept"))).isEqualTo(value("k"));
    WriteSet writes = tx.commit();
    assertThat(writes.mutations()).containsExactly(Map.entry(b("kept"), new Mutation.Put(b("k"))));
  }

  @Test
  void onlyTheInnermostSavepointOfThisTransactionCanBeClosed() {
    Transaction tx = new Transaction(base());
    Transaction.Savepoint outer = tx.savepoint();
    Transaction.Savepoint inner = tx.savepoint();
    assertThatThrownBy(() -> tx.rollbackTo(outer)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.release(outer)).isInstanceOf(IllegalStateException.class);
    Transaction other = new Transaction(base());
    Transaction.Savepoint foreign = other.savepoint();
    assertThatThrownBy(() -> tx.rollbackTo(foreign)).isInstanceOf(IllegalArgumentException.class);
    assertThat(tx.openSavepoints()).isEqualTo(2);
    tx.release(inner);
    tx.release(outer);
    assertThatThrownBy(() -> tx.release(outer)).as("already closed").isInstanceOf(IllegalStateException.class);
  }

  @Test
  void inSavepointKeepsWritesWhenTheBodyReturns() {
    Transaction tx = new Transaction(base());
    String result = tx.inSavepoint(() -> {
      tx.put(b("n"), b("new"));
      assertThat(tx.openSavepoints()).isEqualTo(1);
      return "done";
    });
    assertThat(result).isEqualTo("done");
    assertThat(tx.openSavepoints()).isZero();
    assertThat(tx.get(b("n"))).isEqualTo(value("new"));
  }

  @Test
  void inSavepointRollsBackAndRethrowsWhenTheBodyThrows() {
    Transaction tx = new Transaction(base());
    tx.put(b("before"), b("b"));
    IllegalStateException failure = new IllegalStateException("request failed");
    Throwable thrown = catchThrowable(() -> tx.inSavepoint(() -> {
      tx.put(b("n"), b("new"));
      tx.delete(b("a"));
      throw failure;
    }));
    assertThat(thrown).isSameAs(failure);
    assertThat(tx.openSavepoints()).isZero();
    assertThat(contents(tx)).containsExactly("a=1", "before=b", "c=3", "e=5");

    AssertionError error = new AssertionError("an Error too");
    assertThat(catchThrowable(() -> tx.inSavepoint(() -> {
      tx.put(b("m"), b("x"));
      throw error;
    }))).isSameAs(error);
    assertThat(tx.get(b("m"))).isEmpty();
    assertThat(tx.commit().mutations().keySet()).containsExactly(b("before"));
  }

  @Test
  void aFailedInnerRequestLeavesTheOuterOnesIntact() {
    Transaction tx = new Transaction(new MemoryView());
    int committed = 0;
    for (int request = 0; request < 5; request++) {
      int r = request;
      try {
        tx.inSavepoint(() -> {
          tx.put(b("req" + r), b("ok"));
          // Each request runs a nested step; the odd ones fail in it.
          tx.inSavepoint(() -> {
            tx.put(b("step" + r), b("ok"));
            if (r % 2 == 1) {
              throw new IllegalArgumentException("bad request " + r);
            }
            return null;
          });
          return null;
        });
        committed++;
      } catch (IllegalArgumentException expected) {
        assertThat(expected).hasMessage("bad request " + r);
      }
    }
    assertThat(committed).isEqualTo(3);
    assertThat(contents(tx)).containsExactly("req0=ok", "req2=ok", "req4=ok", "step0=ok", "step2=ok", "step4=ok");
  }

  @Test
  void inSavepointRollsBackABodyThatFailsWithItsOwnSavepointOpen() {
    Transaction tx = new Transaction(base());
    IllegalStateException failure = new IllegalStateException("failed mid-way");
    Throwable thrown = catchThrowable(() -> tx.inSavepoint(() -> {
      tx.put(b("n"), b("new"));
      tx.savepoint(); // never closed: the body fails first
      tx.put(b("m"), b("inner"));
      throw failure;
    }));
    assertThat(thrown).as("the body's own exception, not a savepoint complaint").isSameAs(failure);
    assertThat(tx.openSavepoints()).isZero();
    assertThat(tx.get(b("n"))).isEmpty();
    assertThat(tx.get(b("m"))).isEmpty();
  }

  // ------------------------------------------------------------ commit

  @Test
  void commitReturnsTheWritesInKeyOrder() {
    Transaction tx = new Transaction(base());
    tx.put(b("d"), b("4"));
    tx.delete(b("a"));
    tx.put(b("b"), b("2"));
    WriteSet writes = tx.commit();
    assertThat(writes.mutations()).containsExactly(
        Map.entry(b("a"), Mutation.Delete.INSTANCE),
        Map.entry(b("b"), new Mutation.Put(b("2"))),
        Map.entry(b("d"), new Mutation.Put(b("4"))));
    assertThat(writes.size()).isEqualTo(3);
    assertThat(writes.byteSize()).isEqualTo(1 + 2 + 2);
    assertThatThrownBy(() -> writes.mutations().put(b("x"), Mutation.Delete.INSTANCE))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void commitWithAnOpenSavepointFails() {
    Transaction tx = new Transaction(base());
    tx.put(b("x"), b("1"));
    Transaction.Savepoint savepoint = tx.savepoint();
    tx.put(b("y"), b("2"));
    assertThatThrownBy(tx::commit).isInstanceOf(IllegalStateException.class).hasMessageContaining("savepoint");
    // The failed commit changed nothing: close the savepoint and commit.
    assertThat(tx.get(b("y"))).isEqualTo(value("2"));
    tx.release(savepoint);
    assertThat(tx.commit().mutations().keySet()).containsExactly(b("x"), b("y"));
  }

  @Test
  void aCommittedTransactionCannotBeUsed() {
    Transaction tx = new Transaction(base());
    tx.put(b("x"), b("1"));
    tx.commit();
    assertThatThrownBy(() -> tx.get(b("a"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.scan(KeyRange.ALL)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.put(b("x"), b("2"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.delete(b("x"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(tx::savepoint).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(tx::commit).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tx.inSavepoint(() -> 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anEmptyTransactionCommitsTheEmptyWriteSet() {
    assertThat(new Transaction(base()).commit()).isSameAs(WriteSet.EMPTY);
  }

  // ------------------------------------------------------------ against a model

  /**
   * Random puts, deletes, savepoints, rollbacks, releases and failing inSavepoint bodies
   * against a model that keeps a full copy of the state per savepoint; after every step the
   * transaction's point reads and scans match the model, and its commit applied to the base
   * gives the model's final state.
   */
  @Test
  void behavesLikeAStackOfSnapshots() {
    Bytes[] keys = new Bytes[12];
    byte[] alphabet = {0x00, 0x01, 0x7F, (byte) 0x80, (byte) 0xFF};
    for (int i = 0; i < keys.length; i++) {
      keys[i] = i < alphabet.length ? Bytes.of(alphabet[i]) : Bytes.of(alphabet[i % alphabet.length], alphabet[i / 3 % alphabet.length]);
    }
    Seeded.forAll("transaction vs model", 400, r -> {
      MemoryView base = new MemoryView();
      TreeMap<Bytes, Bytes> model = new TreeMap<>();
      for (Bytes key : keys) {
        if (r.nextBoolean()) {
          Bytes v = Bytes.of((byte) r.nextInt(256));
          base.put(key, v);
          model.put(key, v);
        }
      }
      Transaction tx = new Transaction(base);
      List<Transaction.Savepoint> open = new ArrayList<>();
      List<TreeMap<Bytes, Bytes>> saved = new ArrayList<>();
      for (int step = 0; step < 60; step++) {
        int op = r.nextInt(100);
        if (op < 40) {
          Bytes key = keys[r.nextInt(keys.length)];
          Bytes v = Bytes.of((byte) r.nextInt(256), (byte) step);
          tx.put(key, v);
          model.put(key, v);
        } else if (op < 60) {
          Bytes key = keys[r.nextInt(keys.length)];
          tx.delete(key);
          model.remove(key);
        } else if (op < 70) {
          open.add(tx.savepoint());
          saved.add(new TreeMap<>(model));
        } else if (op < 78 && !open.isEmpty()) {
          tx.rollbackTo(open.removeLast());
          model = saved.removeLast();
        } else if (op < 86 && !open.isEmpty()) {
          tx.release(open.removeLast());
          saved.removeLast();
        } else if (op < 94) {
          TreeMap<Bytes, Bytes> before = new TreeMap<>(model);
          TreeMap<Bytes, Bytes> inside = model;
          boolean fail = r.nextBoolean();
          int writes = r.nextInt(4);
          long bodySeed = r.nextLong();
          Throwable thrown = catchThrowable(() -> tx.inSavepoint(() -> {
            SplittableRandom br = new SplittableRandom(bodySeed);
            for (int w = 0; w < writes; w++) {
              Bytes key = keys[br.nextInt(keys.length)];
              if (br.nextBoolean()) {
                tx.put(key, Bytes.of((byte) 0xEE));
                inside.put(key, Bytes.of((byte) 0xEE));
              } else {
                tx.delete(key);
                inside.remove(key);
              }
            }
            if (fail) {
              throw new IllegalStateException("body fails");
            }
            return writes;
          }));
          if (fail) {
            assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessage("body fails");
            model = before;
          } else {
            assertThat(thrown).isNull();
          }
        }
        assertThat(tx.openSavepoints()).isEqualTo(open.size());
        Bytes probe = keys[r.nextInt(keys.length)];
        assertThat(tx.get(probe)).as("get %s at step %d", probe, step).isEqualTo(Optional.ofNullable(model.get(probe)));
        if (step % 5 == 0) {
          Bytes from = keys[r.nextInt(keys.length)];
          Bytes to = r.nextBoolean() ? null : keys[r.nextInt(keys.length)];
          if (to != null && to.compareTo(from) < 0) {
            Bytes swap = from;
            from = to;
            to = swap;
          }
          KeyRange range = new KeyRange(from, to);
          List<Entry> expected = (to == null ? model.tailMap(from, true) : model.subMap(from, true, to, false))
              .entrySet().stream().map(e -> new Entry(e.getKey(), e.getValue())).toList();
          assertThat(tx.scan(range, Integer.MAX_VALUE)).as("scan %s at step %d", range, step).isEqualTo(expected);
        }
      }
      while (!open.isEmpty()) {
        tx.release(open.removeLast());
      }
      WriteSet writes = tx.commit();
      assertThat(writes.over(base).scan(KeyRange.ALL, Integer.MAX_VALUE))
          .isEqualTo(model.entrySet().stream().map(e -> new Entry(e.getKey(), e.getValue())).toList());
      base.apply(writes);
      assertThat(base.entries()).isEqualTo(model);
      assertThat(base.openCursors()).isZero();
    });
  }

  @Test
  void aNegativeSizeHintIsRefused() {
    assertThatThrownBy(() -> new Transaction(base(), -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative expected write count -1");
  }
}
