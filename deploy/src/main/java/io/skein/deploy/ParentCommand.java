package io.skein.deploy;

import java.util.concurrent.Callable;

/** A command that only groups subcommands: given none, it prints its usage and exits 2, as any usage error does. */
abstract class ParentCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return 2;
  }
}
