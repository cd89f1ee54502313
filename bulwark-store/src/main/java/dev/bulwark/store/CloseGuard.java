package dev.bulwark.store;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Makes close safe for stores over native handles: operations run under a shared lock and
 * check that the store is open; close takes the exclusive lock, closes every registered
 * snapshot and cursor, then the engine. A late call gets an exception, not a crash.
 */
final class CloseGuard {
  private final String name;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Set<AutoCloseable> resources = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  CloseGuard(String name) {
    this.name = name;
  }

  <T> T read(Supplier<T> operation) {
    lock.readLock().lock();
    try {
      checkOpen();
      return operation.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  void run(Runnable operation) {
    read(() -> {
      operation.run();
      return null;
    });
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(name + " is closed");
    }
  }

  void register(AutoCloseable resource) {
    resources.add(resource);
  }

  /**
   * Closes a resource once; safe to call again or after the store closed it. Runs under the
   * shared lock, so a resource closed on one thread while the store closes on another is
   * freed either before the engine or not at all (the store's close frees it), never after.
   * The store's own close holds the exclusive lock and may take the shared one as well.
   */
  void release(AutoCloseable resource, Runnable closeAction) {
    lock.readLock().lock();
    try {
      if (resources.remove(resource)) {
        closeAction.run();
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  boolean isClosed() {
    return closed;
  }

  void close(Runnable closeEngine) {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      for (AutoCloseable resource : Set.copyOf(resources)) {
        try {
          resource.close();
        } catch (Exception e) {
          // Closing must go on for the other resources and the engine.
        }
      }
      resources.clear();
      closed = true;
      closeEngine.run();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
