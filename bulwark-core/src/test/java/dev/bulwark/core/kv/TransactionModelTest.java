package dev.bulwark.core.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.testing.MemoryView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Transactions and write sets held to a plain model of their semantics (a stack of
 * {@code TreeMap} layers merged by hand): random puts, deletes, reads, scans, savepoints rolled
 * back and released, over a base with entries of its own, and the committed write set read as
 * a map and as a layer over the base. It guards any change of their data structures.
 */
class TransactionModelTest {
  /** A small key space, so that keys are overwritten, deleted and written again. */
  private static Bytes key(SplittableRandom random) {
    int n = random.nextInt(64);
    // Varying lengths and shared prefixes, as store keys have.
    return Bytes.utf8("k" + Integer.toString(n, 4) + (n % 3 == 0 ? "/sub" : ""));
  }

  private static KeyRange range(SplittableRandom random) {
    Bytes a = key(random);
    Bytes b = key(random);
    return switch (random.nextInt(4)) {
      case 0 -> KeyRange.ALL;
      case 1 -> new KeyRange(a, null);
      default -> a.compareTo(b) <= 0 ? new KeyRange(a, b) : new KeyRange(b, a);
    };
  }

  /** The reference: the view a stack of TreeMap layers gives over the base. */
  private static final class Model {
    final NavigableMap<Bytes, Bytes> base;
    final List<NavigableMap<Bytes, Mutation>> layers = new ArrayList<>(List.of(new TreeMap<>()));

    Model(NavigableMap<Bytes, Bytes> base) {
      this.base = base;
    }

    NavigableMap<Bytes, Mutation> merged() {
      NavigableMap<Bytes, Mutation> all = new TreeMap<>();
      layers.forEach(all::putAll);
      return all;
    }

    NavigableMap<Bytes, Bytes> view() {
      NavigableMap<Bytes, Bytes> out = new TreeMap<>(base);
      merged().forEach((k, m) -> {
        if (m instanceof Mutation.Put put) {
          out.put(k, put.value());
        } else {
          out.remove(k);
        }
      });
      return out;
    }
  }

  private static List<Entry> expected(NavigableMap<Bytes, Bytes> view, KeyRange range) {
    return view.entrySet().stream().filter(e -> range.contains(e.getKey()))
        .map(e -> new Entry(e.getKey(), e.getValue())).toList();
  }

  @Test
  void transactionsAndTheirWriteSetsMatchTheTreeMapModel() {
    for (int seed = 0; seed < 200; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      MemoryView store = new MemoryView();
      for (int i = 0; i < 20; i++) {
        store.put(key(random), Bytes.utf8("base" + i));
      }
      // A size hint, from none to more than the 64 keys there are, changes nothing but the hash map's start.
      Transaction tx = new Transaction(store, random.nextInt(100));
      Model model = new Model(new TreeMap<>(store.entries()));
      List<Transaction.Savepoint> open = new ArrayList<>();
      int steps = 50 + random.nextInt(300);
      for (int step = 0; step < steps; step++) {
        String at = "seed " + seed + ", step " + step;
        int op = random.nextInt(100);
        if (op < 40) {
          Bytes k = key(random);
          Bytes v = Bytes.utf8("v" + seed + "." + step);
          tx.put(k, v);
          model.layers.getLast().put(k, new Mutation.Put(v));
        } else if (op < 55) {
          Bytes k = key(random);
          tx.delete(k);
          model.layers.getLast().put(k, Mutation.Delete.INSTANCE);
        } else if (op < 75) {
          Bytes k = key(random);
          assertThat(tx.get(k)).as(at).isEqualTo(Optional.ofNullable(model.view().get(k)));
        } else if (op < 85) {
          KeyRange range = range(random);
          assertThat(tx.scan(range, Integer.MAX_VALUE)).as(at + ", scan " + range).isEqualTo(expected(model.view(), range));
        } else if (op < 89) {
          open.add(tx.savepoint());
          model.layers.add(new TreeMap<>());
        } else if (op < 91) {
          // A body that writes, leaves a savepoint of its own open and fails: none of it stays.
          int writes = 1 + random.nextInt(3);
          RuntimeException failure = new IllegalStateException("request failed");
          assertThatThrownBy(() -> tx.inSavepoint(() -> {
            for (int w = 0; w < writes; w++) {
              tx.put(key(random), Bytes.utf8("failed"));
              if (w == 0) {
                tx.savepoint();
              }
              tx.delete(key(random));
            }
            throw failure;
          })).as(at).isSameAs(failure);
          assertThat(tx.openSavepoints()).as(at).isEqualTo(open.size());
        } else if (!open.isEmpty()) {
          Transaction.Savepoint innermost = open.removeLast();
          NavigableMap<Bytes, Mutation> inner = model.layers.removeLast();
          if (op < 96) {
            tx.rollbackTo(innermost);
          } else {
            tx.release(innermost);
            model.layers.getLast().putAll(inner);
          }
        }
        assertThat(tx.writeCount()).as(at).isEqualTo(model.merged().size());
      }
      while (!open.isEmpty()) {
        tx.release(open.removeLast());
        NavigableMap<Bytes, Mutation> inner = model.layers.removeLast();
        model.layers.getLast().putAll(inner);
      }
      WriteSet writes = tx.commit();
      NavigableMap<Bytes, Mutation> want = model.merged();
      String at = "seed " + seed + ", committed";
      assertThat(writes.mutations()).as(at).isEqualTo(want);
      assertThat(List.copyOf(writes.mutations().keySet())).as(at).isEqualTo(List.copyOf(want.keySet()));
      assertThat(writes.size()).as(at).isEqualTo(want.size());
      long bytes = want.entrySet().stream()
          .mapToLong(e -> e.getKey().length() + (e.getValue() instanceof Mutation.Put p ? p.value().length() : 0)).sum();
      assertThat(writes.byteSize()).as(at).isEqualTo(bytes);

      ReadView over = writes.over(store);
      NavigableMap<Bytes, Bytes> view = model.view();
      for (int i = 0; i < 30; i++) {
        Bytes k = key(random);
        assertThat(over.get(k)).as(at).isEqualTo(Optional.ofNullable(view.get(k)));
        KeyRange range = range(random);
        assertThat(over.scan(range, Integer.MAX_VALUE)).as(at + ", scan " + range).isEqualTo(expected(view, range));
      }
      assertThat(store.apply(writes).entries()).as(at + ": applied").isEqualTo(view);
      assertThat(store.openCursors()).isZero();
    }
  }

  @Test
  void aWriteSetAdoptedFromAMapReadsAsTheMap() {
    SplittableRandom random = new SplittableRandom(7);
    NavigableMap<Bytes, Mutation> map = new TreeMap<>();
    for (int i = 0; i < 40; i++) {
      map.put(key(random), random.nextBoolean() ? Mutation.Delete.INSTANCE : new Mutation.Put(Bytes.utf8("x" + i)));
    }
    WriteSet writes = WriteSet.adopt(new TreeMap<>(map));
    assertThat(writes.mutations()).isEqualTo(map);
    assertThat(WriteSet.adopt(new TreeMap<>())).isSameAs(WriteSet.EMPTY);
  }
}
