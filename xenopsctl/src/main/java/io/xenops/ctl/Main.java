package io.xenops.ctl;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.time.Clock;

/** Entry point of the launcher script: one command per process, then exit with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Charset charset = System.out.charset();
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, charset), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, charset), true);
        int code = Cli.run(new XenopsCtl(System.getenv(), Clock.systemUTC()), out, err, args);
        System.exit(code);
    }
}
