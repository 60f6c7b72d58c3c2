package io.xenops.ctl;

import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Help, usage errors and shell completion: none of these may contact a daemon. */
class UsageTest {
    /** Nothing listens on port 1: a test here that tried to connect would fail with exit 3. */
    private final CliRun cli = CliRun.against("http://127.0.0.1:1");

    @Test
    void helpListsEveryCommandAndTheExitCodes() {
        Result r = cli.run("--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("Usage: xenopsctl ");
        for (String command : new String[] {"spawn", "ls", "show", "destroy", "console", "invoke", "pool", "image",
                "images", "xenstore", "health", "version", "generate-completion"}) {
            assertThat(r.out()).containsPattern("(?m)^  " + command + " ");
        }
        assertThat(r.out()).contains("XENOPS_URL").contains("XENOPS_TOKEN").contains("3  xenopsd not reachable");
    }

    @Test
    void subcommandHelpShowsItsOptions() {
        Result r = cli.run("spawn", "--help");
        Result nested = cli.run("pool", "set", "--help");
        Result viaHelp = cli.run("help", "pool");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: xenopsctl spawn").contains("--wait=running|ready")
                .contains("--args=TEXT").contains("--timeout-ms=N").contains("--json");
        assertThat(nested.exitCode()).isZero();
        assertThat(nested.out()).contains("Usage: xenopsctl pool set").contains("TARGET");
        assertThat(viaHelp.exitCode()).isZero();
        assertThat(viaHelp.out()).contains("Usage: xenopsctl pool").containsPattern("(?m)^  set ");
    }

    @Test
    void versionOptionPrintsTheClientVersionOnly() {
        Result r = cli.run("-V");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("xenopsctl " + Version.current() + "\n");
    }

    @Test
    void noCommandIsAUsageErrorWithTheUsageOnStderr() {
        Result r = cli.run();

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("Usage: xenopsctl ");
    }

    @Test
    void aGroupWithoutASubcommandIsAUsageErrorWithItsUsage() {
        for (String group : new String[] {"pool", "image", "xenstore"}) {
            Result r = cli.run(group);

            assertThat(r.exitCode()).as(group).isEqualTo(ExitCodes.USAGE);
            assertThat(r.out()).as(group).isEmpty();
            assertThat(r.err()).as(group).startsWith("Usage: xenopsctl " + group + " ");
        }
    }

    @Test
    void unknownCommandSuggestsTheNearestOne() {
        Result r = cli.run("spwan", "hello");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).startsWith("xenopsctl: Unmatched arguments").contains("spawn")
                .endsWith("Try 'xenopsctl --help' for more information.\n");
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = cli.run("ls", "--colour");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("Unknown option: '--colour'").contains("Try 'xenopsctl ls --help'");
    }

    @Test
    void extraPositionalArgumentIsAUsageError() {
        Result r = cli.run("destroy", "vm-3f9c2a7b1d04", "vm-000000000001");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("vm-000000000001");
    }

    @Test
    void generatesABashCompletionScriptThatCompletesCommandsAndValues(@TempDir Path dir)
            throws IOException, InterruptedException {
        Result r = cli.run("generate-completion");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("complete -F _complete_xenopsctl");
        // Load it into a real bash and ask it what it completes, as a shell would.
        Path script = Files.writeString(dir.resolve("xenopsctl.bash"), r.out());
        assertThat(complete(script, "xenopsctl", "spawn", "--wait", "")).isEqualTo("running ready");
        assertThat(complete(script, "xenopsctl", "po")).isEqualTo("pool");
        assertThat(complete(script, "xenopsctl", "pool", "s")).isEqualTo("show set");
        assertThat(complete(script, "xenopsctl", "image", "p")).isEqualTo("pull push");
        assertThat(complete(script, "xenopsctl", "xenstore", "w")).isEqualTo("write watch");
    }

    /** Runs the completion function for the words typed so far; the last word is being completed. */
    private static String complete(Path script, String... words) throws IOException, InterruptedException {
        StringBuilder array = new StringBuilder();
        for (String w : words) {
            array.append(" '").append(w).append('\'');
        }
        String line = String.join(" ", words);
        String program = "source '" + script + "' 2>/dev/null; COMP_WORDS=(" + array + "); COMP_CWORD="
                + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}; "
                + "_complete_xenopsctl 2>/dev/null; echo \"${COMPREPLY[*]}\"";
        Process p = new ProcessBuilder("bash", "--norc", "--noprofile", "-c", program)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }
}
