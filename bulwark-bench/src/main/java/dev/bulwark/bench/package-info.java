/** JMH benchmarks. */
package dev.bulwark.bench;
