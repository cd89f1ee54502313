package dev.bulwark.cli.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.ToLongFunction;

/**
 * The free space where a chaos run writes: its history file and the cluster's replicas. A long
 * run writes gigabytes, and a disk that fills ends it without a verdict: every replica exits
 * when it can no longer append, the history writer fails, and the final state cannot be read.
 * So a run warns at the start when the space looks short for its length, and stops its faults
 * and workload early, while there is still room to heal and check, once free space falls below
 * a floor.
 */
public final class DiskWatch {
  /**
   * What a run writes per client and second, history and three replicas together: session 9's
   * brisk run with 4 clients wrote about 11 GB (4.9 GB of history, about 2 GB per replica) in
   * 6,180 s, 445 kB per client-second; rounded up.
   */
  static final long BYTES_PER_CLIENT_SECOND = 500_000;
  /** A --faults run took about 3 times its planned length once restarts waited for catch-up (same run). */
  static final int FAULTS_RUN_STRETCH = 3;
  static final long MB = 1_000_000;

  private final List<Path> places;
  private final long floorBytes;
  private final ToLongFunction<Path> usable;

  /**
   * @param places where the run writes (files or directories; the nearest existing ancestor's file store is asked)
   * @param floorBytes stop below this much usable space; 0 never stops
   * @param usable the usable bytes of the file store holding a path (tests inject their own)
   */
  public DiskWatch(List<Path> places, long floorBytes, ToLongFunction<Path> usable) {
    if (floorBytes < 0) {
      throw new IllegalArgumentException("the free-space floor is at least 0, not " + floorBytes);
    }
    this.places = places.stream().map(Path::toAbsolutePath).toList();
    this.floorBytes = floorBytes;
    this.usable = usable;
  }

  /** The usable bytes of the file store that holds {@code path}, or Long.MAX_VALUE when it cannot be told. */
  public static long usableSpace(Path path) {
    Path p = path.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    if (p == null) {
      return Long.MAX_VALUE;
    }
    try {
      return Files.getFileStore(p).getUsableSpace();
    } catch (IOException e) {
      return Long.MAX_VALUE; // not knowing is no reason to stop a run
    }
  }

  /** Roughly what a run of this length with {@code clients} writes, in bytes. */
  static long estimateBytes(FaultSchedule.Length length, long plannedMillis, int clients) {
    long seconds = plannedMillis / 1000 * (length instanceof FaultSchedule.Length.Faults ? FAULTS_RUN_STRETCH : 1);
    return seconds * clients * BYTES_PER_CLIENT_SECOND;
  }

  /** A warning when the least free space among the places is less than {@code needBytes} above the floor. */
  public Optional<String> shortFor(long needBytes) {
    for (Path place : places) {
      long free = usable.applyAsLong(place);
      if (free - floorBytes < needBytes) {
        return Optional.of(String.format(
            "warning: %,d MB free for %s, and a run this long writes about %,d MB (history and replicas); "
                + "it stops its faults early if free space falls below %,d MB (--min-free-mb)",
            free / MB, place, needBytes / MB, floorBytes / MB));
      }
    }
    return Optional.empty();
  }

  /** Why the run must stop now (a place with less usable space than the floor), or empty. */
  public Optional<String> belowFloor() {
    if (floorBytes == 0) {
      return Optional.empty();
    }
    for (Path place : places) {
      long free = usable.applyAsLong(place);
      if (free < floorBytes) {
        return Optional.of(String.format("free disk space for %s fell to %,d MB, below the floor of %,d MB (--min-free-mb)",
            place, free / MB, floorBytes / MB));
      }
    }
    return Optional.empty();
  }
}
