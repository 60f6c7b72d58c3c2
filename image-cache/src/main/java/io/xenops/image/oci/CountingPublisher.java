package io.xenops.image.oci;

import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/** A file body that reports the bytes handed to the connection, for upload progress. */
final class CountingPublisher implements HttpRequest.BodyPublisher {
    private final HttpRequest.BodyPublisher delegate;
    private final long length;
    private final LongConsumer progress;

    private CountingPublisher(HttpRequest.BodyPublisher delegate, long length, LongConsumer progress) {
        this.delegate = delegate;
        this.length = length;
        this.progress = progress;
    }

    static CountingPublisher ofFile(Path file, long length, LongConsumer progress) {
        try {
            return new CountingPublisher(HttpRequest.BodyPublishers.ofFile(file), length, progress);
        } catch (FileNotFoundException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public long contentLength() { return length; }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        AtomicLong sent = new AtomicLong();
        delegate.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) { subscriber.onSubscribe(s); }

            @Override
            public void onNext(ByteBuffer item) {
                long n = sent.addAndGet(item.remaining());
                subscriber.onNext(item);
                progress.accept(n);
            }

            @Override
            public void onError(Throwable t) { subscriber.onError(t); }

            @Override
            public void onComplete() { subscriber.onComplete(); }
        });
    }
}
