from rest_framework import serializers

EVENTS_PAGE_MAX = 1000


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0, help_text="Last sequence number seen.")
    limit = serializers.IntegerField(min_value=1, max_value=EVENTS_PAGE_MAX, default=500)


class SubjectSerializer(serializers.Serializer):
    app = serializers.CharField()
    model = serializers.CharField()
    id = serializers.CharField()


class EventSerializer(serializers.Serializer):
    """The wire form built by ``journal.live_message``: the same on the socket and the API."""

    seq = serializers.IntegerField()
    time = serializers.DateTimeField()
    type = serializers.CharField()
    subject = SubjectSerializer()
    actor = serializers.CharField()
    agencies = serializers.ListField(child=serializers.IntegerField())
    payload = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    latest_seq = serializers.IntegerField(
        help_text="Journal head when the page was read: everything visible up to it is in this "
        "page or the next ones."
    )
    next = serializers.CharField(allow_null=True)
