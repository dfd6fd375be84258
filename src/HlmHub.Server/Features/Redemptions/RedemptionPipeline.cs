using System.Threading.Channels;
using Grpc.Core;
using HlmHub.Observability;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>
/// Group commit for every redemption stream of this hub instance: events from all streams wait in one bounded
/// queue; one loop takes them in batches (closed on <see cref="RedemptionOptions.MaxBatchSize"/> or after
/// <see cref="RedemptionOptions.BatchLinger"/>), decides each batch in order and commits it in one database
/// transaction, and only then completes each event's acknowledgement. So an acknowledgement always follows a
/// durable commit, and one commit is paid for many events.
/// <para>
/// Other hub instances on the same database commit their own batches. When two touch the same rows (the same event
/// resent to both, a cap counter), the database refuses the second write (a unique key, a version check); that
/// batch is read and decided again, up to <see cref="RedemptionOptions.MaxCommitAttempts"/> times.
/// </para>
/// </summary>
internal sealed partial class RedemptionPipeline : BackgroundService
{
    private readonly IDbContextFactory<HlmHubDbContext> _dbContextFactory;
    private readonly RedemptionOptions _limits;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RedemptionPipeline> _logger;
    private readonly Channel<Pending> _queue;
    private readonly HubMetrics _metrics;
    private readonly StoredRejections _storedRejections;

    // The loop's own database connection, kept open from one batch to the next so that the batches' statements are
    // compiled once (BulkInsert keeps them per connection); opened by a context of its own, so that EF Core sets it
    // up as it sets up every connection, and dropped after a failure so the next batch opens a fresh one.
    private HlmHubDbContext? _connectionOwner;

    public RedemptionPipeline(
        IDbContextFactory<HlmHubDbContext> dbContextFactory,
        IOptions<RedemptionOptions> options,
        TimeProvider timeProvider,
        HubMetrics metrics,
        ILogger<RedemptionPipeline> logger)
    {
        _metrics = metrics;
        _dbContextFactory = dbContextFactory;
        _limits = options.Value;
        _storedRejections = new StoredRejections(_limits.MaxStoredRejectionsPerPartnerPerDay);
        _timeProvider = timeProvider;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_limits.MaxQueuedEvents)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>
    /// Hands an event to the next batch and returns its acknowledgement to come (waiting while the queue is full).
    /// The acknowledgement task fails with UNAVAILABLE when the batch could not be committed.
    /// </summary>
    public async ValueTask<Task<V1.RedemptionAck>> EnqueueAsync(string partnerId, V1.RedemptionEvent message, CancellationToken cancellationToken)
    {
        var pending = new Pending(new RedemptionSubmission(partnerId, message));
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw ShuttingDown();
        }

        return pending.Acknowledgement.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // On shutdown the queue takes nothing more, and what it holds is still committed and answered: the server
        // has stopped taking calls by then (hosted services stop after Kestrel has drained).
        await using var stopping = stoppingToken.Register(() => _queue.Writer.TryComplete());
        var reader = _queue.Reader;
        var batch = new List<Pending>(_limits.MaxBatchSize);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < _limits.MaxBatchSize && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (batch.Count < _limits.MaxBatchSize && _limits.BatchLinger > TimeSpan.Zero)
            {
                await LingerAsync(reader, batch);
            }

            await CommitAsync(batch);
        }

        await DropConnectionAsync();
    }

    /// <summary>Waits up to the linger time for the batch to fill.</summary>
    private async Task LingerAsync(ChannelReader<Pending> reader, List<Pending> batch)
    {
        using var linger = new CancellationTokenSource(_limits.BatchLinger, _timeProvider);
        try
        {
            while (batch.Count < _limits.MaxBatchSize && await reader.WaitToReadAsync(linger.Token))
            {
                while (batch.Count < _limits.MaxBatchSize && reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }
            }
        }
        catch (OperationCanceledException) when (linger.IsCancellationRequested)
        {
            // The linger time is over: commit what there is.
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var acks = await DecideAndCommitAsync(batch.Select(pending => pending.Submission).ToList());
                for (var index = 0; index < batch.Count; index++)
                {
                    batch[index].Acknowledgement.TrySetResult(acks[index]);
                    RedemptionAcks.Count(_metrics, batch[index].Submission.Event, acks[index]);
                }

                return;
            }
            catch (DbUpdateException exception) when (IsRace(exception) && attempt < _limits.MaxCommitAttempts)
            {
                // Another instance wrote the same event or cap counter first, or the club closed a month this batch
                // booked in after the batch read its closed months (a closer that does not take the clubs' month lock:
                // a hub of an earlier version, a script): read again, decide again; the events of the month just
                // closed are then booked in the next open month, as adjustments.
                Log.BatchRaced(_logger, batch.Count, attempt);
            }
            catch (Exception exception) when (batch.Count > 1 && IsRefusedWrite(exception))
            {
                // One event the database refuses must not fail the others again and again: each is tried alone. A
                // unique violation still there after every attempt is no race but one event at fault: split too.
                Log.BatchFailedSplitting(_logger, exception, batch.Count);
                foreach (var pending in batch)
                {
                    await CommitAsync([pending]);
                }

                return;
            }
            catch (Exception exception)
            {
                Log.BatchFailed(_logger, exception, batch.Count, attempt);
                await DropConnectionAsync();
                var status = new RpcException(new Status(StatusCode.Unavailable,
                    "the hub could not commit this redemption (database unavailable or too much contention); nothing was recorded: resend it"));
                foreach (var pending in batch)
                {
                    pending.Acknowledgement.TrySetException(status);
                }

                return;
            }
        }
    }

    private async Task<V1.RedemptionAck[]> DecideAndCommitAsync(IReadOnlyList<RedemptionSubmission> submissions)
    {
        // Not cancelled by a stream going away: what was handed over is committed and its answer kept for a resend.
        var cancellationToken = CancellationToken.None;
        var connection = await ConnectionAsync(cancellationToken);
        await using var db = await _dbContextFactory.CreateDbContextAsync(cancellationToken);
        db.Database.SetDbConnection(connection, contextOwnsConnection: false);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = _timeProvider.GetUtcNow();
        var decided = await RedemptionBatch.DecideAndWriteAsync(
            db, submissions, _limits, now, partnerId => _storedRejections.Allowance(partnerId, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        // Counted once committed: a batch decided again after a conflict counts only the attempt that was written.
        _storedRejections.Add(decided.RejectionsStored, now);
        return decided.Acks;
    }

    private async Task<System.Data.Common.DbConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connectionOwner is null)
        {
            var owner = await _dbContextFactory.CreateDbContextAsync(cancellationToken);
            try
            {
                await owner.Database.OpenConnectionAsync(cancellationToken);
            }
            catch
            {
                await owner.DisposeAsync();
                throw;
            }

            _connectionOwner = owner;
        }

        return _connectionOwner.Database.GetDbConnection();
    }

    private async Task DropConnectionAsync()
    {
        if (_connectionOwner is { } owner)
        {
            _connectionOwner = null;
            await owner.DisposeAsync();
        }
    }

    private static bool IsRace(Exception exception) =>
        exception is DbUpdateConcurrencyException
        || (exception is DbUpdateException && (StorageErrors.IsUniqueViolation(exception) || StorageErrors.IsPeriodClosed(exception)));

    // A constraint or rule the write broke (not a connection or time-out): something in one event, not the database.
    // What the database or the rules refused in this batch, as opposed to the database being unreachable: a write
    // refused, or a statement the server rejected for what it carried (a read too, such as PostgreSQL refusing a value
    // in a query). Splitting isolates the event at fault; a transient failure (the connection) is not split, it fails
    // the batch as UNAVAILABLE at once.
    private static bool IsRefusedWrite(Exception exception) =>
        exception is DbUpdateException or Domain.DomainException or LedgerIntegrityException or System.Data.Common.DbException { IsTransient: false };

    private static RpcException ShuttingDown() =>
        new(new Status(StatusCode.Unavailable, "the hub is shutting down; nothing was recorded for this event: resend it to another instance or after restart"));

    private sealed class Pending(RedemptionSubmission submission)
    {
        public RedemptionSubmission Submission { get; } = submission;

        public TaskCompletionSource<V1.RedemptionAck> Acknowledgement { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Redemption batch of {Count} events raced another writer (attempt {Attempt}); deciding it again.")]
        public static partial void BatchRaced(ILogger logger, int count, int attempt);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Redemption batch of {Count} events failed; committing its events one by one.")]
        public static partial void BatchFailedSplitting(ILogger logger, Exception exception, int count);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Redemption batch of {Count} events could not be committed after {Attempt} attempt(s); answered UNAVAILABLE.")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count, int attempt);
    }
}
