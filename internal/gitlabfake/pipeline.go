package gitlabfake

import (
	"math"
	"time"
)

// jobSpec is one job of a project's CI configuration.
type jobSpec struct {
	stage        string
	stageIdx     int
	name         string
	meanMinutes  float64
	allowFailure bool
	deploy       bool // runs on the default branch of deploying projects only
}

func jobsFor(p *project) []jobSpec {
	jobs := []jobSpec{
		{"build", 0, "compile", 4, false, false},
		{"test", 1, "unit-tests", 8, false, false},
		{"test", 1, "lint", 2, false, false},
		{"test", 1, "danger-review", 1, true, false},
	}
	switch p.path {
	case "gitlab":
		if p.group != nil && p.group.path != "gitlab-org/charts" {
			jobs = []jobSpec{
				{"prepare", 0, "setup-test-env", 3, false, false},
				{"prepare", 0, "compile-test-assets", 7, false, false},
				{"test", 1, "rspec unit 1/4", 18, false, false},
				{"test", 1, "rspec unit 2/4", 18, false, false},
				{"test", 1, "rspec unit 3/4", 18, false, false},
				{"test", 1, "rspec unit 4/4", 18, false, false},
				{"test", 1, "rspec integration 1/2", 22, false, false},
				{"test", 1, "rspec integration 2/2", 22, false, false},
				{"test", 1, "jest", 12, false, false},
				{"lint", 2, "rubocop", 6, false, false},
				{"lint", 2, "eslint", 5, false, false},
				{"lint", 2, "danger-review", 1, true, false},
				{"post-test", 3, "coverage-report", 2, true, false},
			}
		}
	case "gitlab-runner":
		jobs = append(jobs, jobSpec{"test", 1, "integration windows", 25, true, false})
	}
	if p.deploys {
		jobs = append(jobs, jobSpec{"deploy", 9, "deploy-staging", 5, false, true})
	}
	return jobs
}

// buildRun is one job of a pipeline run, without its id.
type buildRun struct {
	job      *jobSpec
	status   string
	queued   time.Time
	started  time.Time
	finished time.Time
}

type pipelineRun struct {
	started, finished time.Time
	duration          int
	builds            []buildRun
}

// runPipeline plays a pipeline out stage by stage. The result depends only
// on the spec, so the pipelines and builds tables agree.
func (g *gen) runPipeline(ps pipelineSpec) pipelineRun {
	r := g.rngFor(streamPipeline, ps.id)
	p := ps.p
	onDefault := ps.ref == p.defaultBranch
	var jobs []*jobSpec
	stages := []int{}
	for i := range p.jobs {
		j := &p.jobs[i]
		if j.deploy && !onDefault {
			continue
		}
		jobs = append(jobs, j)
		if len(stages) == 0 || stages[len(stages)-1] != j.stageIdx {
			stages = append(stages, j.stageIdx)
		}
	}
	// Where it goes wrong: a failing job, or the stage it is canceled in.
	failStage, failJob, cancelStage := -1, -1, -1
	switch ps.status {
	case "failed":
		failStage = stages[r.IntN(len(stages))]
		var cands []int
		for i, j := range jobs {
			if j.stageIdx == failStage && !j.allowFailure {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			failStage = stages[0]
			for i, j := range jobs {
				if j.stageIdx == failStage && !j.allowFailure {
					cands = append(cands, i)
				}
			}
		}
		failJob = cands[r.IntN(len(cands))]
	case "canceled":
		cancelStage = stages[r.IntN(len(stages))]
	}

	run := pipelineRun{}
	created := ps.createdAt
	stageStart := micro(created.Add(time.Duration(2+r.IntN(40)) * time.Second))
	run.started = stageStart
	halted := false
	for _, st := range stages {
		stageEnd := stageStart
		for i, j := range jobs {
			if j.stageIdx != st {
				continue
			}
			b := buildRun{job: j, queued: stageStart}
			switch {
			case halted:
				b.status = "skipped"
				if ps.status == "canceled" {
					b.status = "canceled"
				}
			default:
				b.started = micro(stageStart.Add(time.Duration(1+r.IntN(45)) * time.Second))
				d := j.meanMinutes * math.Exp(r.NormFloat64()*0.35)
				b.finished = micro(b.started.Add(time.Duration(d * float64(time.Minute))))
				b.status = "success"
				switch {
				case i == failJob:
					b.status = "failed"
				case st == cancelStage:
					b.status = "canceled"
					b.finished = micro(b.started.Add(time.Duration(d * 0.4 * float64(time.Minute))))
				case j.allowFailure && r.Float64() < 0.1:
					b.status = "failed"
				}
				if b.finished.After(stageEnd) {
					stageEnd = b.finished
				}
			}
			run.builds = append(run.builds, b)
		}
		stageStart = stageEnd
		if st == failStage || st == cancelStage {
			halted = true
		}
	}
	run.finished = stageStart
	run.duration = int(run.finished.Sub(run.started).Seconds())
	return run
}
