using FailureSynth.Events;
using FailureSynth.Imaging;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;

namespace FailureSynth.Trainer.Tests;

/// <summary>
/// The batch events of synthesis (issue 39): the envelope is validated as a whole, items one by one; the Trainer
/// counts a redelivered batch once and dead-letters a malformed item alone, with its reason, keeping the rest.
/// </summary>
public sealed class SynthesisBatchTests
{
    private static readonly SampleChecking Checking = new(new EmbeddedTeacherOptions(), new FilterOptions(), 64);

    private static SampleProposal Proposal(int i) => new($"p{i}", "count", null, null, "How many?", "2", ["step"], null);

    private static CheckedItem Checked(int i) => new(i, new ProposalCheck(Proposal(i), null, "2", null));

    private static SampleBatchChecked Batch(string requestId, string id, params CheckedItem?[] items) =>
        new() { Id = id, CampaignId = "c", RequestId = requestId, Items = items };

    [Fact]
    public void A_batch_envelope_names_every_wrong_field()
    {
        var empty = new SampleBatchProposed { Id = "b", CampaignId = "c", RequestId = " ", Items = [], Checking = Checking, WorkMs = -1 };
        Assert.Equal(["RequestId is missing or empty", "Items.Count is 0, outside 1..1024", "WorkMs is -1, outside 0..1000"], empty.Validate());

        var big = new SampleBatchRendered
        {
            Id = "b", CampaignId = "c", RequestId = "r", Checking = Checking,
            Items = [.. Enumerable.Range(0, SynthesisBatches.MaxSize + 1).Select(i => new RenderedItem(i, Proposal(i), null, "no scene"))],
        };
        Assert.Equal(["Items.Count is 1025, outside 1..1024"], big.Validate());
        Assert.Empty((big with { Items = big.Items.Take(3).ToList() }).Validate());

        var request = new SynthesisRequested
        {
            Id = "s", CampaignId = "c", RequestId = "r", Skill = new SkillDiagnosis("count things", "count"), Count = 10, Seed = 1,
            Checking = Checking, BatchSize = 0, WorkMs = 1001,
        };
        Assert.Equal(["BatchSize is 0, outside 1..1024", "WorkMs is 1001, outside 0..1000"], request.Validate());
        Assert.Equal(SynthesisBatches.DefaultSize, (request with { BatchSize = SynthesisBatches.DefaultSize }).BatchSize);
    }

    [Fact]
    public void Each_malformed_item_is_named_with_its_position_and_index_and_good_items_are_not()
    {
        var batch = new SampleBatchProposed
        {
            Id = "b", CampaignId = "c", RequestId = "r", Checking = Checking,
            Items = [new ProposedItem(0, Proposal(0)), null, new ProposedItem(2, null), new ProposedItem(-4, Proposal(3)), new ProposedItem(0, Proposal(4)), new ProposedItem(5, Proposal(5))],
        };
        Assert.Empty(batch.Validate()); // item problems do not refuse the whole batch
        var problems = batch.ItemProblems();
        Assert.Equal([1, 2, 3, 4], problems.Keys.Order());
        Assert.Equal("Items[1] is null", problems[1]);
        Assert.Equal("Items[2] (index 2): Proposal is missing", problems[2]);
        Assert.Equal("Items[3] (index -4): Index is -4, outside 0..2147483647", problems[3]);
        Assert.Equal("Items[4] (index 0): Index 0 appears more than once in the batch", problems[4]);

        var rendered = new SampleBatchRendered
        {
            Id = "b", CampaignId = "c", RequestId = "r", Checking = Checking,
            Items = [new RenderedItem(0, Proposal(0), "images/a.png", null), new RenderedItem(1, Proposal(1), null, " "), new RenderedItem(2, Proposal(2), "../etc/passwd", null)],
        };
        var renderedProblems = rendered.ItemProblems();
        Assert.Equal([1, 2], renderedProblems.Keys.Order());
        Assert.Contains("none of Picture, ImagePath and RenderProblem is set", renderedProblems[1]);
        Assert.Contains("must be a path inside the data root", renderedProblems[2]);
    }

    [Fact]
    public async Task A_redelivered_batch_is_counted_once_and_replies_come_back_in_index_order()
    {
        var router = new ReplyRouter();
        var bus = new DeadLetterRecorder();
        var handlers = new ReplyHandlers(router, bus);
        using var pending = router.Expect<ProposalCheck>("r1", "the synthesis services", null);
        Assert.True(router.SetExpected("r1", 4));

        var first = Batch("r1", "b1", Checked(2), Checked(3));
        await handlers.HandleAsync(first, CancellationToken.None);
        await handlers.HandleAsync(first with { }, CancellationToken.None); // the broker's redelivery
        Assert.Equal(2, pending.Count);
        await handlers.HandleAsync(Batch("r1", "b0", Checked(0), Checked(1)), CancellationToken.None);

        var replies = await pending.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(["p0", "p1", "p2", "p3"], replies.Select(c => c.Proposal.Id));
        Assert.Empty(bus.DeadLetters);
    }

    [Fact]
    public async Task A_checked_items_picture_reaches_the_request_and_a_path_outside_the_data_root_is_refused()
    {
        var router = new ReplyRouter();
        var bus = new DeadLetterRecorder();
        var handlers = new ReplyHandlers(router, bus);
        using var pending = router.Expect<ProposalCheck>("r3", "the synthesis services", 2);

        await handlers.HandleAsync(Batch("r3", "b0", Checked(0) with { ImagePath = "images/ab.png" }, Checked(1) with { ImagePath = "/etc/passwd" }, Checked(2)),
            CancellationToken.None);

        var replies = await pending.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(["p0", "p2"], replies.Select(c => c.Proposal.Id));
        Assert.Equal(["images/ab.png", null], replies.Select(c => c.ImageFile));
        var (_, reason) = Assert.Single(bus.DeadLetters);
        Assert.Equal("MalformedItems: Items[1] (index 1): ImagePath '/etc/passwd' must be a path inside the data root (relative, without '..')", reason);
    }

    [Fact]
    public void Pictures_travel_in_the_message_until_its_room_is_spent_and_a_wrong_picture_is_named()
    {
        var image = new RgbImage(64, 64);
        long room = SynthesisBatches.InlinePictureBudget;
        int inline = 0;
        while (SynthesisBatches.TryInline(image, ref room) is { } picture)
        {
            Assert.Same(image.Pixels, picture.Rgb); // no copy on the way out
            inline++;
        }
        Assert.Equal(SynthesisBatches.InlinePictureBudget / (64 * 64 * 3), inline); // 341 pictures of 64 x 64; the rest go by path
        Assert.True(room < 64 * 64 * 3);
        long roomForOne = 64 * 64 * 3;
        Assert.NotNull(SynthesisBatches.TryInline(image, ref roomForOne));
        Assert.Equal(0, roomForOne);

        var good = new InlinePicture(2, 1, [1, 2, 3, 4, 5, 6]);
        var rendered = new SampleBatchRendered
        {
            Id = "b", CampaignId = "c", RequestId = "r", Checking = Checking,
            Items =
            [
                new RenderedItem(0, Proposal(0), null, null, good),
                new RenderedItem(1, Proposal(1), null, null, good with { Rgb = [1, 2, 3] }),
                new RenderedItem(2, Proposal(2), "images/a.png", null, good),
                new RenderedItem(3, Proposal(3), null, null, good with { Width = 0 }),
                new RenderedItem(4, Proposal(4), null, null, good with { Rgb = null }),
                new RenderedItem(5, Proposal(5), null, null, new InlinePicture(2048, 1024, new byte[2048 * 1024 * 3])),
            ],
        };
        var problems = rendered.ItemProblems();
        Assert.Equal([1, 2, 3, 4, 5], problems.Keys.Order());
        Assert.Equal("Items[1] (index 1): Picture.Rgb holds 3 bytes, but 2 x 1 RGB pixels are 6", problems[1]);
        Assert.Equal("Items[2] (index 2): both Picture and ImagePath are set (a rendered picture travels one way)", problems[2]);
        Assert.Equal("Items[3] (index 3): Picture is 0 x 1 pixels, outside 1..16384 on each side", problems[3]);
        Assert.Equal("Items[4] (index 4): Picture.Rgb is missing", problems[4]);
        Assert.Equal("Items[5] (index 5): Picture holds 6291456 bytes, more than a message carries (4194304); a picture this large goes by ImagePath", problems[5]);
    }

    [Fact]
    public async Task A_picture_in_the_message_survives_the_json_and_reaches_the_request_as_the_checked_image()
    {
        var router = new ReplyRouter();
        var bus = new DeadLetterRecorder();
        var handlers = new ReplyHandlers(router, bus);
        using var pending = router.Expect<ProposalCheck>("r4", "the synthesis services", 2);
        byte[] pixels = [.. Enumerable.Range(0, 4 * 3 * 3).Select(i => (byte)(i * 7))];
        var sent = Batch("r4", "b0", Checked(0) with { Picture = new InlinePicture(4, 3, pixels) }, Checked(1) with { Picture = new InlinePicture(4, 3, [1]) }, Checked(2));

        var options = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web); // the bus's shape
        string json = System.Text.Json.JsonSerializer.Serialize(sent, options);
        Assert.Contains("\"rgb\":\"" + Convert.ToBase64String(pixels) + "\"", json);
        await handlers.HandleAsync(System.Text.Json.JsonSerializer.Deserialize<SampleBatchChecked>(json, options)!, CancellationToken.None);

        var replies = await pending.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(["p0", "p2"], replies.Select(c => c.Proposal.Id));
        Assert.Equal(pixels, replies[0].Image!.Pixels);
        Assert.Equal((4, 3), (replies[0].Image!.Width, replies[0].Image!.Height));
        Assert.Null(replies[1].Image);
        var (_, reason) = Assert.Single(bus.DeadLetters);
        Assert.Equal("MalformedItems: Items[1] (index 1): Picture.Rgb holds 1 bytes, but 4 x 3 RGB pixels are 36", reason);
    }

    [Fact]
    public void The_bench_asks_for_every_proposal_in_windows_round_by_round_each_with_its_own_seed()
    {
        var windows = SynthesisBench.Windows(proposals: 640, window: 15);
        Assert.Equal(48, windows.Count); // 40 per skill: 15 + 15 + 10, for each of the 16 skills
        Assert.Equal(640, windows.Sum(w => w.Count));
        Assert.Equal(Enumerable.Repeat(15, 32).Concat(Enumerable.Repeat(10, 16)), windows.Select(w => w.Count));
        Assert.Equal(Enumerable.Range(0, 16), windows.Take(16).Select(w => w.Skill));
        Assert.Equal(windows.Count, windows.Select(w => w.Seed).Distinct().Count());
        // A run that fits one window per skill asks exactly what the bench always asked: seed 1000 + skill.
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (i, 250, 1000L + i)), SynthesisBench.Windows(4000, SynthesisBench.DefaultWindow));
        Assert.Throws<ArgumentOutOfRangeException>(() => SynthesisBench.Windows(640, 0));
    }

    [Fact]
    public async Task A_malformed_item_is_dead_lettered_alone_with_its_reason_and_the_rest_of_the_batch_arrives()
    {
        var router = new ReplyRouter();
        var bus = new DeadLetterRecorder();
        var handlers = new ReplyHandlers(router, bus);
        using var pending = router.Expect<ProposalCheck>("r2", "the synthesis services", 2);

        await handlers.HandleAsync(Batch("r2", "b0", Checked(0), new CheckedItem(1, null), Checked(2)), CancellationToken.None);

        var replies = await pending.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(["p0", "p2"], replies.Select(c => c.Proposal.Id));
        var (dead, reason) = Assert.Single(bus.DeadLetters);
        Assert.Equal("MalformedItems: Items[1] (index 1): Check is missing", reason);
        var part = Assert.IsType<SampleBatchChecked>(dead);
        Assert.Equal([1], part.Items.Select(i => i!.Index));
        Assert.NotEqual("b0", part.Id);
    }

    [Fact]
    public void The_benchmarks_work_per_sample_costs_at_least_that_much_CPU_whatever_the_load()
    {
        // A wall-clock loop would pass on an idle machine and spend less CPU than asked on a loaded one.
        var before = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        SynthesisBatches.SpendCpu(100);
        var spent = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - before;
        // The process clock counts in scheduler ticks: a margin of two ticks for its rounding.
        Assert.True(spent >= TimeSpan.FromMilliseconds(80), $"SpendCpu(100) used {spent.TotalMilliseconds} ms of CPU");
        SynthesisBatches.SpendCpu(0); // off: returns at once
    }

    /// <summary>Stands for the broker's dead-letter queue (the real one is tested in FailureSynth.Messaging.Tests); nothing is published.</summary>
    private sealed class DeadLetterRecorder : IEventBus
    {
        public List<(IntegrationEvent Event, string Reason)> DeadLetters { get; } = [];

        public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            throw new InvalidOperationException($"the Trainer's reply handlers publish nothing, but published {typeof(TEvent).Name}");

        public Task DeadLetterAsync<TEvent>(TEvent @event, string reason, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
        {
            DeadLetters.Add((@event, reason));
            return Task.CompletedTask;
        }
    }
}
